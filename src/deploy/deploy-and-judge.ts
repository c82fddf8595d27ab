// One round of a deploy: `docker stack deploy` of a source (the compose
// files, or a recorded release), the release record written right after it,
// the wait for Swarm's verdict, the smoke check, and the record's status.
// A rollback and rollback-stack's second round are the same round.
import { baselineOf, stackServices } from '../converge/spec.js'
import type { Verdict } from '../converge/verdict.js'
import { configWarnings } from '../converge/warnings.js'
import type { Wait } from '../converge/watch.js'
import { watch } from '../converge/watch.js'
import type { CliTimeout } from '../docker-cli.js'
import type { PushedImage } from '../build/image.js'
import type { Stats } from '../outcome.js'
import type { Release, ReleaseStatus } from '../release/record.js'
import { recordDeploy } from '../release/record-deploy.js'
import type { DeploySource } from '../release/rollback.js'
import type { ReleaseHistory } from '../release/store.js'
import { setStatus } from '../release/store.js'
import { redactStrings } from '../secrets.js'
import type { SmokeResult } from '../smoke/decide.js'
import { smokeVerdict } from '../smoke/decide.js'
import { runSmokeCheck } from '../smoke/run.js'
import type { Snapshot } from '../swarm/model.js'
import { deployOrStop, waitOf } from './deploy-run.js'
import type { DeployRun } from './deploy-run.js'
import { keptLine, keptReplicas } from './keep-replicas.js'
import { stageName } from './stage-plan.js'
import { pruneUnnamed, report, runAfter, runBefore, stagedRound, stageView, viewOf } from './stages.js'

export type { DeployRun } from './deploy-run.js'

/**
 * One deploy of a source (the compose files, or a recorded release) to a
 * verdict, recorded as a release as soon as `docker stack deploy` has run.
 */
export async function deployAndJudge(
  run: DeployRun,
  source: DeploySource,
  known: ReleaseHistory
): Promise<{ verdict: Verdict; release: Release | undefined; deployStarted: number; smoke?: SmokeResult; untouched?: boolean }> {
  const { plan, api, tunnel, host, reporter, secrets, outcome, deadline, secretKey } = run
  const { inputs } = plan
  const deployStarted = host.now()
  // Hooks and waves (stage-plan.ts): steps before this round's own deploy, which then leaves the hooks out.
  const staged = stagedRound(run, source)
  const early = staged ? await runBefore(run, source, staged) : undefined
  const view = staged?.hooks.size ? stageView(api, inputs.stack, name => !staged.hooks.has(name)) : api
  const before = await view.snapshot(inputs.stack)
  const baseline = baselineOf(before, inputs.stack)
  const replicas = keptReplicas(source.compose, before.services, inputs.stack, inputs.keepReplicas === true)
  for (const kept of replicas) reporter.info(keptLine(kept))
  const started = host.now()
  const deployPlan = {
    stack: inputs.stack,
    composeFiles: source.composeFiles,
    // Deploying a hook runs it: the last wave leaves them out, so --prune would remove them (pruneUnnamed instead).
    prune: inputs.prune && !staged?.hooks.size,
    variables: source.variables,
    secretKey,
    deadline,
    ...(staged?.hooks.size ? { services: staged.deployed } : {}),
    ...(replicas.length > 0 ? { replicas } : {})
  }
  let recorded: Promise<Release | undefined> | undefined
  // A record that cannot be written is a warning: it must not fail a deploy the swarm took.
  const record = (after?: Snapshot): Promise<Release | undefined> =>
    (recorded ??= recordDeploy(api, inputs.stack, source, secretKey, host, secrets, known, plan, reporter, after).catch((error: unknown) => {
      reporter.warn(`Could not record the release: ${(error as Error).message}`)
      return undefined
    }))
  const label = async (status: ReleaseStatus): Promise<Release | undefined> => {
    const release = await record()
    if (!release) return undefined
    return setStatus(api, release, status, plan.releaseKeys).catch((error: unknown) => {
      reporter.warn(`Could not set release #${release.number} to ${status}: ${(error as Error).message}`)
      return release
    })
  }
  if (early) {
    const labelled = await label(early.verdict.status === 'pending' ? 'timed-out' : early.verdict.status)
    if (labelled) reporter.info(`Release #${labelled.number}: ${labelled.status}`)
    outcome.stages = [...(outcome.stages ?? []), ...staged!.reports]
    // A pre-deploy hook that failed changed nothing else: there is nothing to put back.
    return { verdict: early.verdict, release: labelled, deployStarted, untouched: early.stage.kind === 'pre-deploy' }
  }
  const stopped = await reporter
    .phase(`Deploy stack ${inputs.stack}${staged ? `: ${stageName(staged.last)}` : ''}`, () => deployOrStop(run, deployPlan, source.compose))
    .catch(async (error: unknown) => {
      // It reached docker stack deploy, which may have changed some services.
      if (error instanceof Error && error.message.startsWith('docker stack deploy')) await label('failed')
      throw error
    })
  // One snapshot right after the deploy serves the release record, the specs the deploy is judged
  // by and the wait's first poll. The record is written before the wait: from then on a killed run's
  // post step knows its ID and marks it cancelled.
  const deployedAt = host.now()
  const read0 = { calls: api.calls(), bytes: tunnel.traffic().bytesRead }
  const after = stopped ? undefined : await api.snapshot(inputs.stack)
  const firstPoll = { calls: api.calls() - read0.calls, bytes: tunnel.traffic().bytesRead - read0.bytes }
  // Post-deploy hooks do not exist yet: their round is recorded once they ran, so the record names every service.
  const recordedRelease = staged?.after.length ? undefined : await record(after)
  if (staged?.hooks.size && inputs.prune && after) await pruneUnnamed(run, staged, after)
  const first = after && staged?.hooks.size ? viewOf(after, inputs.stack, name => !staged.hooks.has(name)) : after
  // A cancel from here until the verdict marks the record cancelled, rather than leaving it deploying.
  const forgetCancel = recordedRelease
    ? host.leftovers.onCancel?.(
        async () => {
          const cancelled = await label('cancelled')
          if (cancelled) reporter.info(`Release #${cancelled.number}: cancelled`)
        },
        { kind: 'release', stack: inputs.stack, id: recordedRelease.id }
      )
    : undefined
  let judged: Verdict
  try {
    judged = stopped
      ? deployStopped(inputs.stack, stopped)
      : await waitForVerdict(
          { ...run, api: view },
          waitOf({ ...run, api: view }, baseline, first!, deployedAt),
          source.rollbackTo ? undefined : outcome.image,
          firstPoll
        )
  } finally {
    forgetCancel?.()
  }
  // Every string of it (images, node names, messages) may reach the outputs and the summary.
  let verdict = redactStrings(judged, text => secrets.redact(text))
  // Converged is not enough with smoke-url: the release is labelled by the check's verdict too.
  const check = inputs.smoke
  const smoke =
    check && verdict.status === 'converged'
      ? await reporter.phase('Smoke check', () =>
          runSmokeCheck(check, { get: run.smokeGet, now: host.now, sleep: host.sleep, info: line => reporter.info(line), redact: text => secrets.redact(text) })
        )
      : undefined
  if (smoke) verdict = smokeVerdict(verdict, smoke, inputs.stack)
  if (staged) {
    staged.reports.push(report(staged, staged.last, verdict.status, Math.round((host.now() - started) / 1000)))
    verdict = await runAfter(run, source, staged, verdict)
    outcome.stages = [...(outcome.stages ?? []), ...staged.reports]
  }
  const status = verdict.status === 'pending' ? 'timed-out' : verdict.status
  const labelled = await label(status)
  if (labelled) reporter.info(`Release #${labelled.number}${source.rollbackTo ? ` (rollback to #${source.rollbackTo.number})` : ''}: ${status}`)
  return { verdict, release: labelled, deployStarted, ...(smoke ? { smoke } : {}) }
}

/**
 * Warn about settings Swarm cannot judge by, then watch the rollout to a verdict.
 * `firstPoll`: what reading the wait's first snapshot cost, before the release record was written.
 */
async function waitForVerdict(run: DeployRun, wait: Wait, image: PushedImage | undefined, firstPoll: { calls: number; bytes: number }): Promise<Verdict> {
  const { api, tunnel, host, reporter, outcome } = run
  const { deployedAt } = wait
  const after = wait.first!.snapshot
  const images = new Map(image?.healthcheck ? [[image.pinned, image.healthcheck]] : [])
  for (const warning of configWarnings(stackServices(after, wait.stack), images, wait.deadline - host.now())) reporter.warn(warning)
  // The first poll is `after`, read before the release record was written; the wait's own calls begin here.
  const settled = { calls: api.calls(), bytes: tunnel.traffic().bytesRead }

  const { verdict, polls, verdictAt } = await reporter.phase('Wait for the rollout', () => watch(api, wait))

  const waitCalls = firstPoll.calls + api.calls() - settled.calls
  reporter.info(
    `Verdict ${verdict.status} after ${((verdictAt - deployedAt) / 1000).toFixed(1)}s: ${polls} polls, ${waitCalls} API calls, ${tunnel.sshConnections() || 'no'} SSH connection(s)`
  )
  const stats: Stats = {
    polls,
    apiCalls: waitCalls,
    apiCallsTotal: api.calls(),
    sshConnections: tunnel.sshConnections(),
    bytesRead: firstPoll.bytes + tunnel.traffic().bytesRead - settled.bytes,
    bytesReadTotal: tunnel.traffic().bytesRead,
    firstPollApiCalls: firstPoll.calls,
    firstPollBytesRead: firstPoll.bytes,
    maxChannels: tunnel.traffic().maxChannels,
    maxRssBytes: host.maxRssBytes(),
    verdictAt,
    deployedAt
  }
  outcome.stats = stats
  reporter.debug(`swarm-deploy stats ${JSON.stringify(stats)}`)
  return verdict
}

/** `docker stack deploy` ran into the deadline: what reached Swarm is unknown, so no service is judged. */
function deployStopped(stack: string, error: CliTimeout): Verdict {
  return {
    status: 'timed-out',
    services: [],
    summary: `Stack ${stack} timed out: ${error.message}. Some services may have been updated; check the manager (docker stack ps ${stack}) and deploy again.`
  }
}

// The steps of a staged deploy (stage-plan.ts) that are not the round's own
// `docker stack deploy`: pre-deploy hooks and the waves before the last run
// before it, post-deploy hooks after its verdict and smoke check. Each step
// is a `docker stack deploy` of a copy that names only its services (others
// keep their spec: without --prune the CLI leaves them alone), judged by the
// same judge on a view of the swarm that holds only those services.
import { randomBytes } from 'node:crypto'
import { diagnose } from '../converge/diagnose.js'
import type { Diagnosis } from '../converge/diagnose.js'
import { baselineOf } from '../converge/spec.js'
import type { ServiceVerdict, Verdict } from '../converge/verdict.js'
import { watch } from '../converge/watch.js'
import { runOrThrow } from '../docker-cli.js'
import type { SwarmApi } from '../ports.js'
import type { DeploySource } from '../release/rollback.js'
import { redactStrings } from '../secrets.js'
import type { Snapshot } from '../swarm/model.js'
import { STACK_LABEL } from '../swarm/model.js'
import type { DeployRun } from './deploy-run.js'
import { deployOrStop, waitOf } from './deploy-run.js'
import type { Stage, StagePlan } from './stage-plan.js'
import { isStaged, stageName, stagePlanOf, stagesOf } from './stage-plan.js'
import type { StageReport } from './stage-verdict.js'
import { notRunReports, stoppedVerdict, withPostDeploy } from './stage-verdict.js'

/** A round's steps: before its own deploy, that deploy's services, and after its verdict. */
export interface Staged {
  plan: StagePlan
  before: Stage[]
  last: Stage
  after: Stage[]
  /** The services the round's own deploy names: every service but the hooks. */
  deployed: Set<string>
  hooks: Set<string>
  /** The rows of the summary so far. */
  reports: StageReport[]
  /** The pre-deploy hooks' verdicts, which the round's verdict shows with its services. */
  hookVerdicts: ServiceVerdict[]
  /** `rollback-stack`'s round, named in the summary's rows. */
  round?: string
}

/**
 * The round's steps, or undefined for a stack with no hook and one wave (one
 * `docker stack deploy` of the whole file, as ever). A rollback leaves the
 * hooks out unless hooks-on-rollback, and says so.
 */
export function stagedRound(run: DeployRun, source: DeploySource): Staged | undefined {
  const { plan, problems } = stagePlanOf(source.compose)
  // The checkout's files were checked before anything ran; a recorded release's here, before its deploy.
  if (problems.length > 0) throw new Error(problems.join('\n'))
  if (!isStaged(plan)) return undefined
  const rollback = source.rollbackTo !== undefined
  const runHooks = !rollback || run.plan.inputs.hooksOnRollback === true
  const stages = stagesOf(plan, runHooks)
  const round = rollback ? `rollback to #${source.rollbackTo!.number}` : undefined
  const skipped = runHooks ? [] : stagesOf(plan, true).filter(s => s.kind !== 'wave')
  for (const stage of skipped) run.reporter.info(`Skipping the ${stageName(stage)}: this is a rollback (set hooks-on-rollback: true to run them)`)
  const at = stages.findIndex(s => s.last)
  const hooks = new Set([...plan.preDeploy, ...plan.postDeploy])
  return {
    plan,
    before: stages.slice(0, at),
    last: stages[at]!,
    after: stages.slice(at + 1),
    deployed: new Set(plan.waves.flatMap(w => w.services)),
    hooks,
    reports: notRunReports(skipped, 'skipped', round),
    hookVerdicts: [],
    ...(round ? { round } : {})
  }
}

/** The steps in the order a deploy of the source runs them; undefined for one `docker stack deploy`. */
export function stageOrder(run: DeployRun, source: DeploySource): Stage[] | undefined {
  const staged = stagedRound(run, source)
  return staged ? [...staged.before, staged.last, ...staged.after] : undefined
}

/** The swarm as a step sees it: the stack's services it keeps, and their tasks. */
export function stageView(api: SwarmApi, stack: string, keep: (service: string) => boolean): SwarmApi {
  return { ...api, snapshot: async (name, serviceIds) => viewOf(await api.snapshot(name, serviceIds), stack, keep) }
}

/** A snapshot with only the stack's services `keep` names (by compose key), and their tasks. */
export function viewOf(snapshot: Snapshot, stack: string, keep: (service: string) => boolean): Snapshot {
  const services = snapshot.services.filter(s => s.Spec.Labels?.[STACK_LABEL] !== stack || keep(s.Spec.Name.slice(stack.length + 1)))
  const ids = new Set(services.map(s => s.ID))
  return { ...snapshot, services, tasks: snapshot.tasks.filter(t => ids.has(t.ServiceID)) }
}

/** One step: the copy with its services deployed, and the judge's verdict on them, with the failed task's log tail if it failed. */
async function runStage(run: DeployRun, source: DeploySource, stage: Stage): Promise<{ verdict: Verdict; diagnoses: Diagnosis[]; seconds: number }> {
  const { plan, api, host, reporter, secrets, deadline, secretKey } = run
  const { stack } = plan.inputs
  const names = new Set(stage.services)
  const view = stageView(api, stack, name => names.has(name))
  const before = await view.snapshot(stack)
  const started = host.now()
  // A hook's run ID label: every deploy is a new run of the job, judged by this run's task.
  const runLabel = stage.kind === 'wave' ? {} : { runLabel: { services: stage.services, id: `${stack}-${started}-${randomBytes(3).toString('hex')}` } }
  const deployPlan = { stack, composeFiles: source.composeFiles, prune: false, variables: source.variables, secretKey, deadline, services: names, ...runLabel }
  const title = stageName(stage)
  const stopped = await reporter.phase(`Deploy the ${title}`, () => deployOrStop(run, deployPlan, source.compose))
  let verdict: Verdict
  if (stopped) {
    verdict = { status: 'timed-out', services: [], summary: `Stack ${stack} timed out: ${stopped.message}.` }
  } else {
    const deployedAt = host.now()
    const after = await view.snapshot(stack)
    const wait = waitOf({ ...run, api: view }, baselineOf(before, stack), after, deployedAt)
    verdict = (await reporter.phase(`Wait for the ${title}`, () => watch(view, wait))).verdict
  }
  verdict = redactStrings(verdict, text => secrets.redact(text))
  const diagnoses =
    verdict.status === 'converged'
      ? []
      : (await diagnose(api, verdict, Math.floor(started / 1000) - 5)).map(d => redactStrings(d, text => secrets.redact(text)))
  const seconds = Math.round((host.now() - started) / 1000)
  reporter.info(`${title}: ${verdict.status} after ${seconds}s`)
  return { verdict, diagnoses, seconds }
}

/** The pre-deploy hooks and the waves before the last, in order, up to the first that does not converge: its verdict, or undefined when all did. */
export async function runBefore(run: DeployRun, source: DeploySource, staged: Staged): Promise<{ verdict: Verdict; stage: Stage } | undefined> {
  const { stack } = run.plan.inputs
  for (const [i, stage] of staged.before.entries()) {
    const { verdict, diagnoses, seconds } = await runStage(run, source, stage)
    staged.reports.push(report(staged, stage, verdict.status, seconds))
    if (stage.kind === 'pre-deploy') staged.hookVerdicts.push(...verdict.services)
    if (verdict.status === 'converged') continue
    const notRun = [...staged.before.slice(i + 1), staged.last, ...staged.after]
    staged.reports.push(...notRunReports(notRun, 'not run', staged.round))
    return { verdict: stoppedVerdict(stack, stage, verdict, diagnoses, notRun), stage }
  }
  return undefined
}

/** The post-deploy hooks once the stack converged (and passed its smoke check): the stack's verdict with theirs. */
export async function runAfter(run: DeployRun, source: DeploySource, staged: Staged, judged: Verdict): Promise<Verdict> {
  const verdict = { ...judged, services: [...judged.services, ...staged.hookVerdicts].sort((a, b) => a.name.localeCompare(b.name)) }
  if (verdict.status !== 'converged') {
    staged.reports.push(...notRunReports(staged.after, 'not run', staged.round))
    return verdict
  }
  let ended = verdict
  for (const [i, stage] of staged.after.entries()) {
    const hook = await runStage(run, source, stage)
    staged.reports.push(report(staged, stage, hook.verdict.status, hook.seconds))
    ended = withPostDeploy(run.plan.inputs.stack, stage, ended, hook.verdict, hook.diagnoses)
    if (ended.status !== 'converged') {
      staged.reports.push(...notRunReports(staged.after.slice(i + 1), 'not run', staged.round))
      break
    }
  }
  return ended
}

export function report(staged: Staged, stage: Stage, status: StageReport['status'], seconds: number): StageReport {
  return { kind: stage.kind, name: stageName(stage), status, seconds, ...(staged.round ? { round: staged.round } : {}) }
}

/**
 * prune with hooks: the last wave leaves the hooks out of its copy (deploying
 * a job runs it), so `--prune` would remove them; the services no compose
 * file names are removed here instead, as `docker stack deploy --prune` would.
 */
export async function pruneUnnamed(run: DeployRun, staged: Staged, after: Snapshot): Promise<void> {
  const { plan, cli, tunnel, reporter } = run
  const { stack } = plan.inputs
  const named = new Set([...staged.deployed, ...staged.hooks].map(name => `${stack}_${name}`))
  const unnamed = after.services.filter(s => s.Spec.Labels?.[STACK_LABEL] === stack && !named.has(s.Spec.Name)).map(s => s.Spec.Name)
  if (unnamed.length === 0) return
  reporter.info(`Removing service(s) no compose file names (prune): ${unnamed.join(', ')}`)
  await runOrThrow(cli, 'docker service rm', ['service', 'rm', ...unnamed], {
    env: { DOCKER_HOST: `unix://${tunnel.socketPath}` },
    timeoutMs: Math.max(1_000, run.deadline - run.host.now())
  })
}

// The deploy engine: plan → registry → build → connect → deploy → converge.
// One function for every front end. It reads nothing from the process and
// prints nothing itself: the host, the adapters and the reporter are given,
// and the outcome is returned as data for the front end to show.
import type { PushedImage } from './build/image.js'
import { buildAndPush } from './build/image.js'
import type { Diagnosis } from './converge/diagnose.js'
import { describeFailure, diagnose } from './converge/diagnose.js'
import type { Baseline, StackStatus, Verdict } from './converge/verdict.js'
import { baselineOf, deployedOf, stackServices } from './converge/spec.js'
import type { Rollout } from './converge/rollout.js'
import { watchOptions } from './converge/rollout.js'
import { configWarnings } from './converge/warnings.js'
import { watch } from './converge/watch.js'
import { deployStack, sourceReader } from './deploy/stack-deploy.js'
import type { Release, ReleaseStatus } from './release/record.js'
import { isReleaseName, objectsOf, releaseName, releaseServices } from './release/record.js'
import type { DeploySource } from './release/rollback.js'
import { recordedCompose, rollbackSource } from './release/rollback.js'
import { chooseRelease, liveRelease, ReleaseError } from './release/select.js'
import type { ReleaseHistory } from './release/store.js'
import { createRelease, loadReleases, pruneReleases, setStatus } from './release/store.js'
import { trustNotes } from './release/proof.js'
import { releaseRow } from './report/releases.js'
import { HASH_CHARS, isVersionOf, namesInUse } from './deploy/stack-objects.js'
import { CliTimeout } from './docker-cli.js'
import { Deployment } from './github/deployments.js'
import { InputError } from './inputs/parse.js'
import type { Inputs } from './inputs/inputs.js'
import type { Plan } from './plan.js'
import { makePlan, passedSecretsOf, PlanError, secretKeyOf } from './plan.js'
import type { Adapters, DockerCli, DockerTunnel, EngineFacts, Host, Reporter, SmokeGet, SwarmApi } from './ports.js'
import { resolveExisting } from './registry/existing.js'
import { login, resolveAuth } from './registry/login.js'
import { shortLivedToken, shortLivedWarning, tokenExpiry } from './registry/expiry.js'
import { helperLogin, runCredentialHelper } from './registry/credentials/credential-helper.js'
import { RegistryUnreachable } from './registry/manifest.js'
import type { ReportFacts } from './report/summary.js'
import { servicesOutput } from './report/summary.js'
import { addConnectionSecrets, redactSnapshot, redactStrings, Secrets } from './secrets.js'
import type { Snapshot } from './swarm/model.js'
import { createWorkdir } from './workdir.js'
import { smokeUrlSecrets } from './inputs/smoke-inputs.js'
import type { SmokeResult } from './smoke/decide.js'
import type { SmokeCheckReport } from './report/smoke.js'
import { checkPlan, smokeVerdict } from './smoke/decide.js'
import { httpGet } from './smoke/http.js'
import { runSmokeCheck } from './smoke/run.js'
import type { StackPlan } from './preview/stack-plan.js'
import { previewImage, previewStack } from './preview/preview.js'
import type { HeldLock } from './lock/store.js'
import { noteDeployLock, takeDeployLock } from './lock/run.js'

export interface Stats {
  /** Snapshots read while waiting. */
  polls: number
  /** Engine API calls while waiting, and in the whole run. */
  apiCalls: number
  apiCallsTotal: number
  sshConnections: number
  /** Bytes read from the engine while waiting, and in the whole run; the most engine connections open at once. */
  bytesRead: number
  bytesReadTotal: number
  /** What the first poll of the wait cost (it reads the whole stack; later polls only what is undecided). */
  firstPollApiCalls: number
  firstPollBytesRead: number
  maxChannels: number
  maxRssBytes: number
  /** Epoch ms: `docker stack deploy` returned, and the verdict was reached. */
  deployedAt: number
  verdictAt: number
}

/**
 * Why a run stopped before there was a verdict. `input`: bad input, nothing
 * was done. `unreachable`: the registry or the swarm could not be reached.
 * `error`: anything else (a build that failed, a deploy command that failed).
 */
export interface Stopped {
  kind: 'input' | 'unreachable' | 'error'
  message: string
}

/** One phase of the run: its title, when it began (ms after the run began) and how long it took. */
export interface PhaseTime {
  title: string
  startMs: number
  ms: number
}

/**
 * What a run ends as: the verdict's status, or `cancelled` (SIGINT or
 * SIGTERM: the front end stopped the run, whatever the swarm was doing; the
 * swarm goes on with what reached it).
 */
export type RunStatus = StackStatus | 'cancelled'

export interface Outcome {
  /** The verdict's status; undefined when the run stopped before there was anything to judge. */
  status: RunStatus | undefined
  verdict: Verdict | undefined
  image: PushedImage | undefined
  diagnoses: Diagnosis[]
  stats: Stats | undefined
  /** What the summary shows, once there is a verdict. */
  report: ReportFacts | undefined
  /** The stack's releases after the run, newest first (once the swarm was reached). */
  releases?: Release[]
  stopped: Stopped | undefined
  /** Epoch ms when the run began, and where its time went, phase by phase. */
  startedAt: number
  phases: PhaseTime[]
  /** ISO time the ECR token this run stored in the services stops working (ECR logins only). */
  registryAuthExpires?: string
  /** With dry-run: what a deploy would do; there is no verdict. */
  plan?: StackPlan
}

/** The registry or the swarm did not answer. */
export class UnreachableError extends Error {
  override name = 'UnreachableError'
}

export async function reaching<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    throw error instanceof UnreachableError ? error : new UnreachableError((error as Error).message)
  }
}

export async function runDeploy(inputs: Inputs, host: Host, adapters: Adapters, reporter: Reporter): Promise<Outcome> {
  const startedAt = host.now()
  const outcome: Outcome = {
    status: undefined,
    verdict: undefined,
    image: undefined,
    diagnoses: [],
    stats: undefined,
    report: undefined,
    stopped: undefined,
    startedAt,
    phases: []
  }
  const secrets = new Secrets(reporter)
  // Mask first: nothing may print before every secret is registered.
  addConnectionSecrets(secrets, inputs.target, inputs.registry)
  for (const [name, value] of inputs.env) secrets.add(value, `env ${name}`)
  for (const line of inputs.releaseKey) secrets.add(line, 'release-key')
  if (inputs.deployment) secrets.add(inputs.deployment.token, 'github-token')
  // A smoke URL's userinfo and query values (tokens); the body excerpt is redacted of them too.
  for (const { value, name } of inputs.smoke ? smokeUrlSecrets(inputs.smoke.urls.map(u => u.href).join('\n')) : []) secrets.add(value, name)
  try {
    const plan = makePlan(inputs, host)
    // What env-passthrough lets through to the compose files is as secret as env.
    for (const { name, value } of plan.passedSecrets) secrets.add(value, `env-passthrough ${name}`)
    // Never printed; hidden all the same, should any text ever carry one.
    for (const key of plan.releaseKeys.verify) secrets.add(key.toString('hex'))
    for (const warning of plan.warnings) reporter.warn(warning)
    await execute(plan, host, adapters, timingPhases(reporter, host.now, startedAt, outcome.phases), secrets, outcome)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const kind =
      error instanceof PlanError || error instanceof InputError || error instanceof ReleaseError
        ? 'input'
        : error instanceof UnreachableError
          ? 'unreachable'
          : 'error'
    outcome.stopped = { kind, message }
  }
  return outcome
}

type Log = Pick<Reporter, 'info' | 'warn' | 'debug'>

/** A log that holds its lines until flush(), then passes them through. */
function deferredLog(reporter: Reporter): { log: Log; flush(): void } {
  let held: Array<[keyof Log, string]> | undefined = []
  const line = (kind: keyof Log) => (text: string) => (held ? held.push([kind, text]) : reporter[kind](text))
  return {
    log: { info: line('info'), warn: line('warn'), debug: line('debug') },
    flush() {
      const lines = held ?? []
      held = undefined
      for (const [kind, text] of lines) reporter[kind](text)
    }
  }
}

/** The reporter, with each phase's time also kept for the outcome. */
export function timingPhases(reporter: Reporter, now: () => number, startedAt: number, into: PhaseTime[]): Reporter {
  return {
    secret: value => reporter.secret(value),
    info: line => reporter.info(line),
    warn: line => reporter.warn(line),
    debug: line => reporter.debug(line),
    command: argv => reporter.command(argv),
    stream: (chunk, from) => reporter.stream(chunk, from),
    output: (name, value) => reporter.output(name, value),
    async phase(title, fn) {
      const began = now()
      try {
        return await reporter.phase(title, fn)
      } finally {
        into.push({ title, startMs: began - startedAt, ms: now() - began })
      }
    }
  }
}

async function execute(plan: Plan, host: Host, adapters: Adapters, reporter: Reporter, secrets: Secrets, outcome: Outcome): Promise<void> {
  const { inputs } = plan
  const started = host.now()
  const workdir = await createWorkdir(host.tempDir, host.env, host.leftovers)
  try {
    const cli = adapters.dockerCli(workdir.dockerConfig, host, reporter)

    // The SSH handshake needs neither the login nor the build: it runs while
    // they do, and its log lines wait for the Connect phase.
    const connectLog = deferredLog(reporter)
    const connecting = reaching(() => adapters.openTunnel(inputs.target, workdir.dockerSocket, connectLog.log, host))
    connecting.catch(() => undefined) // a failure is reported by the Connect phase, not as an unhandled rejection
    let tunnel: DockerTunnel | undefined
    try {
      // A preview reads no registry: no login.
      // A credential helper that is missing or fails is an error of its own, not an unreachable registry.
      const stored = (registry: string) =>
        helperLogin(registry, {
          stores: workdir.credentialStores,
          env: host.env,
          run: adapters.credentialHelper ?? runCredentialHelper,
          log: reporter,
          hide: secret => secrets.add(secret)
        })
      const auth = inputs.dryRun ? undefined : await resolveAuth(inputs.registry, region => reaching(() => adapters.ecrToken(region)), stored)
      if (auth) {
        // An ECR token, a helper's secret: a password too.
        secrets.add(auth.password)
        await reporter.phase(`Log in to ${auth.registry}`, () => reaching(() => login(cli, workdir.dockerConfig, auth)))
        if (auth.expiresAt) {
          outcome.registryAuthExpires = auth.expiresAt.toISOString()
          reporter.info(tokenExpiry(auth.registry, auth.expiresAt, host.now()))
          reporter.output('registry-auth-expires', outcome.registryAuthExpires)
        }
        const shortLived = shortLivedToken(auth, host.env)
        if (shortLived) reporter.warn(shortLivedWarning(auth.registry, shortLived))
      }

      if (inputs.image && inputs.dryRun && !inputs.rollback)
        reporter.info(`Dry run: nothing is built or pushed; IMAGE stands for ${previewImage(inputs.image)}${inputs.image.build ? ' (to be built)' : ''}`)
      else if (inputs.image && inputs.rollback) reporter.warn(`image: ignored during a rollback, which deploys the recorded images; nothing is built`)
      else if (inputs.image) {
        const build = inputs.image
        // build: false resolves the tag already pushed; either way a digest, never a tag alone.
        const image = build.build
          ? await reporter.phase(`Build and push ${build.repository}`, () => buildAndPush(cli, build, { env: host.env, reporter }))
          : await reporter.phase(`Resolve ${build.repository}:${build.tags[0]}`, () =>
              resolveExisting(cli, workdir.dockerConfig, build, auth, { reporter, fetch: adapters.registryFetch }).catch((error: unknown) => {
                throw error instanceof RegistryUnreachable ? new UnreachableError(error.message) : error
              })
            )
        outcome.image = image
        reporter.info(`${build.build ? 'Pushed' : 'Deploying'} ${image.pinned}`)
        reporter.output('image', image.pinned)
        reporter.output('digest', image.digest)
      }

      tunnel = await reporter.phase('Connect', async () => {
        connectLog.flush()
        const opened = await connecting
        reporter.info(`Docker engine reached through ${opened.description}`)
        return opened
      })
    } finally {
      // The login or the build failed: the connection made meanwhile is not needed.
      if (tunnel === undefined)
        await connecting.then(
          opened => opened.close(),
          () => undefined
        )
    }
    // Swarm's own text (task errors, update messages) may echo a value back:
    // it is redacted as it arrives, so no log, output or summary shows it.
    const engine = adapters.swarmApi(tunnel.socketPath)
    const api: SwarmApi = {
      ...engine,
      snapshot: async (stack, serviceIds) => redactSnapshot(await engine.snapshot(stack, serviceIds), text => secrets.redact(text))
    }
    let lock: HeldLock | undefined
    try {
      const clusterId = await reporter.phase('Check the target engine', () => checkManager(api, tunnel.lastDialError, reporter, tunnel.engine?.()))
      // Before anything on the swarm changes, and before the releases are read: the last holder may have added one.
      // A preview changes nothing, the lock included: it only says who holds it.
      if (inputs.dryRun) await noteDeployLock(api, inputs.stack, reporter)
      else lock = await reporter.phase('Take the deploy lock', () => takeDeployLock(api, inputs, host, reporter))
      const secretKey = secretKeyOf(inputs.stack, clusterId)
      const { releases: history, refused } = await loadReleases(api, inputs.stack, plan.releaseKeys)
      for (const note of trustNotes(plan.releaseKeys, refused, inputs.dryRun === true)) reporter.warn(note)
      const previous = liveRelease(history)
      // A rollback reads the recorded files, not the checkout's: the values env-passthrough gives them are as secret as env.
      const readsPassed = (target: Release): void => {
        for (const { name, value } of passedSecretsOf(target.compose, plan.values, inputs.env)) secrets.add(value, `env-passthrough ${name}`)
      }

      let source: DeploySource
      if (inputs.rollback) {
        const rollback = inputs.rollback
        source = await reporter.phase('Choose the release', async () => {
          const target = chooseRelease(history, rollback, inputs.stack, refused)
          readsPassed(target)
          reporter.info(
            `${inputs.dryRun ? 'Previewing the rollback' : 'Rolling back'} to release #${target.number} (${target.status}, ${target.sha.slice(0, 7) || 'no commit'}, ${target.time})${inputs.dryRun ? ': nothing is deployed' : ''}`
          )
          return rollbackSource(target, plan.values, await existingObjects(api, inputs.stack), workdir.root, host.files)
        })
      } else {
        const variables = outcome.image ? new Map([...plan.values, ['IMAGE', outcome.image.pinned]]) : plan.values
        source = { compose: plan.compose, composeFiles: inputs.composeFiles, variables, rollbackTo: undefined }
      }
      if (inputs.dryRun) {
        const { stack, prune } = inputs
        const image = inputs.rollback ? undefined : inputs.image
        const hide = (name: string): void => secrets.add(name)
        const planned = await reporter.phase('Preview', () => previewStack({ stack, prune, source, image, secretKey, cli, api, host, reporter, hide }))
        outcome.plan = redactStrings(planned, text => secrets.redact(text))
        reporter.output('plan', JSON.stringify(outcome.plan))
        // The inputs were checked all the same; what the check would do is said, and nothing is asked.
        if (inputs.smoke) reporter.info(`Dry run: no smoke check (nothing was deployed); a deploy would ${checkPlan(inputs.smoke)}`)
        return
      }
      const deadline = host.now() + plan.rollout.timeoutMs
      const run: DeployRun = { plan, cli, api, tunnel, host, reporter, secrets, outcome, deadline, secretKey, smokeGet: adapters.smokeGet ?? httpGet }
      const deployment = githubDeployment(inputs, host, adapters, reporter, secrets)
      await deployment?.start(
        source.rollbackTo?.sha || host.env.GITHUB_SHA || host.env.GITHUB_REF || 'HEAD',
        source.rollbackTo ? `swarm-deploy ${inputs.stack}: rollback to #${source.rollbackTo.number}` : `swarm-deploy ${inputs.stack}`
      )
      const first = await deployAndJudge(run, source, { releases: history, refused }).catch(async (error: unknown) => {
        await deployment?.finish(false, (error as Error).message)
        throw error
      })
      let verdict = first.verdict
      let diagnoses = needsDiagnostics(first)
        ? await reporter.phase('Diagnostics', () => showDiagnostics(api, verdict, first.deployStarted, secrets, reporter))
        : []
      const releases = first.release ? [first.release, ...history] : [...history]
      let stackRollback: Verdict | undefined
      const smokeChecks: SmokeCheckReport[] = first.smoke ? [{ title: 'Smoke check', result: first.smoke }] : []
      if (verdict.status !== 'converged' && inputs.onFailure === 'rollback-stack') {
        const target = liveRelease(history)
        if (!target)
          reporter.warn(
            `on-failure: rollback-stack: stack ${inputs.stack} has no converged release${refused.length > 0 ? ' this run trusts' : ''} to go back to; leaving it as it is`
          )
        else {
          readsPassed(target)
          reporter.info(`Stack ${inputs.stack} ${verdict.status}: putting release #${target.number} back for every service (on-failure: rollback-stack)`)
          const back = await rollbackSource(target, plan.values, await existingObjects(api, inputs.stack), workdir.root, host.files)
          if (first.release) releases[0] = await setStatus(api, first.release, 'rolled-back', plan.releaseKeys).catch(() => first.release!)
          const second = await deployAndJudge({ ...run, deadline: host.now() + plan.rollout.timeoutMs }, back, { releases, refused })
          if (second.release) releases.unshift(second.release)
          if (second.smoke) smokeChecks.push({ title: `Smoke check of release #${target.number}, put back`, result: second.smoke })
          stackRollback = second.verdict
          if (needsDiagnostics(second)) {
            diagnoses = [
              ...diagnoses,
              ...(await reporter.phase('Diagnostics', () => showDiagnostics(api, second.verdict, second.deployStarted, secrets, reporter)))
            ]
          }
          const firstVerdict = verdict
          verdict =
            second.verdict.status === 'converged'
              ? {
                  ...second.verdict,
                  status: 'rolled-back',
                  summary: `Stack ${inputs.stack} was rolled back to release #${target.number}: ${firstVerdict.summary}`
                }
              : {
                  ...second.verdict,
                  summary: `Stack ${inputs.stack} ${firstVerdict.status} and putting release #${target.number} back ${second.verdict.status}: ${second.verdict.summary}`
                }
        }
      }
      outcome.verdict = verdict
      outcome.status = verdict.status
      outcome.diagnoses = diagnoses
      await deployment?.finish(verdict.status === 'converged', verdict.summary)

      reporter.output('status', verdict.status)
      reporter.output('services', servicesOutput(verdict))
      const live = liveRelease(releases)
      reporter.output('release', live ? String(live.number) : '')
      reporter.output('previous-release', previous ? String(previous.number) : '')
      outcome.releases = releases
      outcome.report = {
        stack: inputs.stack,
        target: tunnel.description,
        image: outcome.image?.pinned,
        verdict,
        diagnoses,
        seconds: Math.round((host.now() - started) / 1000),
        releases: releases.slice(0, 5).map(releaseRow),
        ...(stackRollback ? { firstVerdict: first.verdict } : {}),
        ...(outcome.registryAuthExpires ? { registryAuthExpires: outcome.registryAuthExpires } : {}),
        ...(smokeChecks.length > 0 ? { smoke: smokeChecks } : {})
      }

      const kept = await pruneReleases(api, releases, inputs.keepReleases, line => reporter.info(line))
      if (verdict.status === 'converged') {
        reporter.info(verdict.summary)
        const keep = new Set(kept.flatMap(objectsOf))
        await reporter.phase('Remove unused secret and config versions', () => pruneVersions(api, inputs.stack, reporter, keep))
      }
    } finally {
      await lock?.release().then(({ level, message }) => reporter[level](message))
      api.close()
      await tunnel.close()
    }
  } finally {
    await workdir.remove()
  }
}

interface DeployRun {
  plan: Plan
  cli: DockerCli
  api: SwarmApi
  tunnel: DockerTunnel
  host: Host
  reporter: Reporter
  secrets: Secrets
  outcome: Outcome
  deadline: number
  /** Keys secret version names (see secretKeyOf). */
  secretKey: Buffer
  smokeGet: SmokeGet
}

/**
 * One deploy of a source (the compose files, or a recorded release) to a
 * verdict, recorded as a release as soon as `docker stack deploy` has run.
 */
async function deployAndJudge(
  run: DeployRun,
  source: DeploySource,
  known: ReleaseHistory
): Promise<{ verdict: Verdict; release: Release | undefined; deployStarted: number; smoke?: SmokeResult }> {
  const { plan, cli, api, tunnel, host, reporter, secrets, outcome, deadline, secretKey } = run
  const { inputs } = plan
  const before = await api.snapshot(inputs.stack)
  const baseline = baselineOf(before, inputs.stack)
  const deployStarted = host.now()
  const deployPlan = { stack: inputs.stack, composeFiles: source.composeFiles, prune: inputs.prune, variables: source.variables, secretKey, deadline }
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
  const stopped = await reporter
    .phase(`Deploy stack ${inputs.stack}`, async () => {
      try {
        await deployStack(cli, api, deployPlan, source.compose, tunnel.socketPath, {
          files: host.files,
          leftovers: host.leftovers,
          now: host.now,
          info: line => reporter.info(line),
          hide: name => secrets.add(name)
        })
        return undefined
      } catch (error) {
        if (error instanceof CliTimeout) return error
        throw error
      }
    })
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
  const recordedRelease = await record(after)
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
          api,
          tunnel,
          plan.rollout,
          { baseline, deadline, image: source.rollbackTo ? undefined : outcome.image, after: after!, deployedAt, firstPoll },
          host,
          reporter,
          outcome
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
  const status = verdict.status === 'pending' ? 'timed-out' : verdict.status
  const labelled = await label(status)
  if (labelled) reporter.info(`Release #${labelled.number}${source.rollbackTo ? ` (rollback to #${source.rollbackTo.number})` : ''}: ${status}`)
  return { verdict, release: labelled, deployStarted, ...(smoke ? { smoke } : {}) }
}

/** What the swarm runs right after the deploy, and how it got there; never a value from env. */
async function recordDeploy(
  api: SwarmApi,
  stack: string,
  source: DeploySource,
  secretKey: Buffer,
  host: Host,
  secrets: Secrets,
  known: ReleaseHistory,
  plan: Plan,
  reporter: Reporter,
  /** The stack as read right after the deploy, if it was. */
  after?: Snapshot
): Promise<Release> {
  // IMAGE is the image this run pushed, not a value from env.
  const variables = new Map([...source.variables].filter(([name]) => name !== 'IMAGE'))
  const services = releaseServices(stackServices(after ?? (await api.snapshot(stack)), stack), variables, secrets.list())
  const env = host.env
  const recorded = source.rollbackTo
    ? { compose: source.rollbackTo.compose, variables: source.rollbackTo.variables }
    : recordedCompose(source.compose, { stack, values: source.variables, readSource: sourceReader(source.composeFiles, host.files.read), secretKey })
  const runUrl =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : ''
  const release = await createRelease(
    api,
    {
      format: 1,
      stack,
      time: new Date(host.now()).toISOString(),
      sha: source.rollbackTo ? source.rollbackTo.sha : (env.GITHUB_SHA ?? ''),
      ref: source.rollbackTo ? source.rollbackTo.ref : (env.GITHUB_REF ?? ''),
      actor: env.GITHUB_ACTOR ?? env.USER ?? '',
      runUrl,
      rollbackTo: source.rollbackTo?.number,
      image: source.rollbackTo ? source.rollbackTo.image : source.variables.get('IMAGE'),
      services,
      compose: recorded.compose,
      variables: recorded.variables
    },
    known,
    plan.releaseKeys
  )
  reporter.info(`Recorded release #${release.number} as config ${releaseName(stack, release.number)}`)
  return release
}

/** GitHub Deployments when an environment is set and the job can reach the API; undefined otherwise. */
function githubDeployment(inputs: Inputs, host: Host, adapters: Adapters, reporter: Reporter, secrets: Secrets): Deployment | undefined {
  const wanted = inputs.deployment
  if (!wanted) return undefined
  const { GITHUB_REPOSITORY: repository, GITHUB_SERVER_URL: server, GITHUB_RUN_ID: runId } = host.env
  if (wanted.token === '' || !repository || !adapters.github) {
    reporter.warn(
      `GitHub Deployments: environment ${wanted.environment} is set but ${wanted.token === '' ? 'there is no github-token' : 'GITHUB_REPOSITORY is not set'}; the deploy goes on without them`
    )
    return undefined
  }
  const logUrl = server && runId ? `${server}/${repository}/actions/runs/${runId}` : undefined
  const client = adapters.github(wanted.token, host.env.GITHUB_API_URL || 'https://api.github.com', repository)
  return new Deployment(
    client,
    { environment: wanted.environment, environmentUrl: wanted.url, logUrl },
    line => reporter.warn(line),
    line => reporter.info(line),
    text => secrets.redact(text)
  )
}

async function existingObjects(api: SwarmApi, stack: string): Promise<Set<string>> {
  return new Set((await api.listObjects(stack)).map(o => o.name))
}

interface Wait {
  baseline: Baseline
  deadline: number
  image: PushedImage | undefined
  /** The stack read right after the deploy: the wait's first poll. */
  after: Snapshot
  /** Epoch ms when `docker stack deploy` returned. */
  deployedAt: number
  /** What reading `after` cost: the wait's first poll. */
  firstPoll: { calls: number; bytes: number }
}

/** Warn about settings Swarm cannot judge by, then watch the rollout to a verdict. */
async function waitForVerdict(
  api: SwarmApi,
  tunnel: DockerTunnel,
  rollout: Rollout,
  wait: Wait,
  host: Host,
  reporter: Reporter,
  outcome: Outcome
): Promise<Verdict> {
  const { deployedAt, after } = wait
  const images = new Map(wait.image?.healthcheck ? [[wait.image.pinned, wait.image.healthcheck]] : [])
  // Right after the deploy: the specs it put there, which later changes by others are told apart from.
  const deployed = deployedOf(wait.baseline, after, rollout.stack)
  for (const warning of configWarnings(stackServices(after, rollout.stack), images, wait.deadline - host.now())) reporter.warn(warning)
  const { firstPoll } = wait
  // The first poll is `after`, read before the release record was written; the wait's own calls begin here.
  const settled = { calls: api.calls(), bytes: tunnel.traffic().bytesRead }

  const { verdict, polls, verdictAt } = await reporter.phase('Wait for the rollout', () =>
    watch(api, {
      ...watchOptions(rollout, {
        baseline: wait.baseline,
        deployed,
        deployedAt,
        deadline: wait.deadline,
        log: line => reporter.info(line),
        now: host.now,
        sleep: host.sleep
      }),
      first: { snapshot: after, polledAt: deployedAt }
    })
  )

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

/**
 * Whether a deploy's verdict calls for the failed tasks. Not when it is
 * converged, nor when only its smoke check failed: the smoke check runs once
 * the rollout converged, so no task of it failed, and the check's phase has
 * already printed each URL's answer and body.
 */
export function needsDiagnostics(judged: { verdict: Verdict; smoke?: SmokeResult }): boolean {
  return judged.verdict.status !== 'converged' && judged.smoke?.passed !== false
}

/** Failed tasks with their log tails, printed before the error and kept for the summary. */
async function showDiagnostics(api: SwarmApi, verdict: Verdict, deployStarted: number, secrets: Secrets, reporter: Reporter): Promise<Diagnosis[]> {
  const found = await diagnose(api, verdict, Math.floor(deployStarted / 1000) - 5)
  const clean = found.map(d => redactStrings(d, text => secrets.redact(text)))
  for (const { failure, logTail } of clean) {
    reporter.info(describeFailure(failure))
    reporter.info(
      logTail === ''
        ? '    (no log output since the deploy began)'
        : logTail
            .split('\n')
            .map(l => `    | ${l}`)
            .join('\n')
    )
  }
  if (clean.length === 0) reporter.info('No failed task of this deploy to show.')
  return clean
}

/**
 * After a successful deploy only: versions that neither the current specs,
 * the specs kept for Swarm's rollback, nor a kept release use. After a failure nothing is removed, so
 * Swarm (or a person) can still roll back.
 */
async function pruneVersions(api: SwarmApi, stack: string, reporter: Reporter, keep: ReadonlySet<string> = new Set()): Promise<void> {
  // Every service of the stack as it is now: the watcher stopped polling those it had decided.
  const inUse = namesInUse(stackServices(await api.snapshot(stack), stack))
  // A kept release can be rolled back to only while its versions exist.
  for (const name of keep) inUse.add(name)
  const unused = (await api.listObjects(stack)).filter(o => isVersionOf(stack, o.name) && !isReleaseName(stack, o.name) && !inUse.has(o.name))
  for (const object of unused) {
    // Secret versions are named by their key only: the versioned name is never logged.
    const what =
      object.kind === 'secret' ? `an unused version of secret ${object.name.slice(stack.length + 1, -(HASH_CHARS + 1))}` : `${object.kind} ${object.name}`
    try {
      await api.removeObject(object.kind, object.id)
      reporter.info(`Removed ${what}`)
    } catch (error) {
      // The deploy converged; a version something else still holds is no reason to fail it.
      reporter.warn(`Could not remove ${what}: ${(error as Error).message.split(object.name).join('(its version)')}`)
    }
  }
  if (unused.length === 0) reporter.info('Nothing to remove.')
}

/**
 * The engine is a swarm manager: returns the swarm's cluster ID, which keys secret version names.
 * `known`: the engine's /info as the connection read it, which spares asking again.
 */
export async function checkManager(api: SwarmApi, lastDialError: () => string | undefined, reporter: Reporter, known?: EngineFacts): Promise<string> {
  let info
  try {
    info = known?.clusterId === undefined ? await api.info() : { ...known, clusterId: known.clusterId }
  } catch (error) {
    const far = lastDialError()
    throw new UnreachableError(`cannot reach the Docker engine: ${far ?? (error as Error).message}`)
  }
  if (!info.isManager) {
    throw new Error(`the Docker engine (version ${info.serverVersion}, swarm state ${info.swarmState}) is not a swarm manager: point host at a manager node`)
  }
  if (info.clusterId === undefined) throw new Error(`the Docker engine (version ${info.serverVersion}) is a swarm manager but gave no cluster ID`)
  reporter.info(`Docker ${info.serverVersion}, swarm manager`)
  return info.clusterId
}

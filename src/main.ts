// The pipeline: inputs → build → registry → connect → deploy → converge →
// report. Each phase is one log group; decisions live in pure modules and
// every side effect goes through the docker CLI, the tunnel or the API seam.
import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { PushedImage } from './build/image.js'
import { buildAndPush } from './build/image.js'
import type { DockerTunnel } from './connect/docker-tunnel.js'
import { openTunnel } from './connect/docker-tunnel.js'
import { describeFailure, diagnose } from './converge/diagnose.js'
import type { Diagnosis } from './converge/diagnose.js'
import type { Baseline, Verdict } from './converge/judge.js'
import { baselineOf, stackServices } from './converge/judge.js'
import type { SwarmApi } from './swarm/api.js'
import type { Snapshot } from './swarm/model.js'
import { dockerodeApi } from './swarm/api.js'
import { configWarnings } from './converge/warnings.js'
import { watch } from './converge/watch.js'
import { composeVariableProblems, deployStack, interpolationValues } from './deploy/stack-deploy.js'
import { isVersionOf, namesInUse } from './deploy/stack-objects.js'
import { CliTimeout, ExecDockerCli } from './docker-cli.js'
import { isFile } from './files.js'
import type { Inputs } from './inputs/inputs.js'
import { getInputs, secretsOf } from './inputs/inputs.js'
import { ecrToken, login, resolveAuth } from './registry/login.js'
import { renderSummary, servicesOutput } from './report/summary.js'
import { redact, redactSnapshot } from './report/redact.js'
import { createWorkdir } from './workdir.js'

// Three API calls a cycle: a verdict within ~0.3 s of Swarm's decisive moment.
const POLL_MS = 250

export async function run(): Promise<void> {
  try {
    const read = (name: string): string => core.getInput(name)
    // Mask first: nothing may print before every secret is registered.
    const secrets = secretsOf(read)
    for (const secret of secrets) maskSecret(secret)
    const inputs = getInputs(read, { env: process.env, isFile, readFile: file => readFileSync(file, 'utf8') })
    // env-file values are secrets too; they are known only once parsed.
    for (const value of inputs.env.values()) {
      if (value.trim() === '' || secrets.includes(value)) continue
      maskSecret(value)
      secrets.push(value)
    }
    await deploy(inputs, secrets)
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error))
  }
}

/** Multi-line values are masked line by line too, as the runner matches per line. */
function maskSecret(secret: string): void {
  core.setSecret(secret)
  for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 4 && line !== secret) core.setSecret(line)
}

async function deploy(inputs: Inputs, secrets: string[]): Promise<void> {
  const started = Date.now()
  // Compose files are checked before anything is built or deployed: a secret
  // that is missing must stop the run, not become an empty string.
  const compose = inputs.composeFiles.map(file => ({ path: file, text: readFileSync(file, 'utf8') }))
  const values = interpolationValues(inputs.env, inputs.passthrough, process.env)
  const problems = composeVariableProblems(compose, withImage(values, inputs.image ? 'set after the push' : undefined))
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\nNothing was deployed.`)

  const workdir = await createWorkdir(process.env.RUNNER_TEMP)
  try {
    const cli = new ExecDockerCli(workdir.dockerConfig)

    const auth = await resolveAuth(inputs.registry, ecrToken)
    if (auth) await core.group(`Log in to ${auth.registry}`, () => login(cli, workdir.dockerConfig, auth))

    let image: PushedImage | undefined
    if (inputs.image) {
      const build = inputs.image
      image = await core.group(`Build and push ${build.repository}`, () => buildAndPush(cli, build))
      core.info(`Pushed ${image.pinned}`)
      core.setOutput('image', image.pinned)
      core.setOutput('digest', image.digest)
    }

    const tunnel = await core.group('Connect', async () => {
      const opened = await openTunnel(inputs.target, workdir.dockerSocket)
      core.info(`Docker engine reached through ${opened.description}`)
      return opened
    })
    // Swarm's own text (task errors, update messages) may echo a value back:
    // it is redacted as it arrives, so no log, output or summary shows it.
    const engine = dockerodeApi(tunnel.socketPath)
    const api: SwarmApi = { ...engine, snapshot: async stack => redactSnapshot(await engine.snapshot(stack), secrets) }
    try {
      await core.group('Check the target engine', () => checkManager(api, tunnel.lastDialError))
      const before = await api.snapshot(inputs.stack)
      const baseline = baselineOf(before, inputs.stack)

      const variables = withImage(values, image?.pinned)
      const deployStarted = Date.now()
      const deadline = deployStarted + inputs.timeoutMs
      const plan = { stack: inputs.stack, composeFiles: inputs.composeFiles, prune: inputs.prune, variables, secretKey: secretKeyOf(inputs), deadline }
      const stopped = await core.group(`Deploy stack ${inputs.stack}`, async () => {
        try {
          await deployStack(cli, api, plan, compose, tunnel.socketPath)
          return undefined
        } catch (error) {
          if (error instanceof CliTimeout) return error
          throw error
        }
      })
      const { verdict, snapshot } = stopped
        ? { verdict: deployStopped(inputs.stack, stopped), snapshot: undefined }
        : await waitForVerdict(api, tunnel, { stack: inputs.stack, baseline, deadline, rollbackOnFailure: inputs.rollbackOnFailure, image })

      const diagnoses = verdict.status === 'converged' ? [] : await core.group('Diagnostics', () => showDiagnostics(api, verdict, deployStarted, secrets))

      core.setOutput('status', verdict.status)
      core.setOutput('services', servicesOutput(verdict))
      const markdown = renderSummary({
        stack: inputs.stack,
        target: tunnel.description,
        image: image?.pinned,
        verdict,
        diagnoses,
        seconds: Math.round((Date.now() - started) / 1000)
      })
      if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown).write()

      if (verdict.status === 'converged' && snapshot) {
        core.info(verdict.summary)
        await core.group('Remove unused secret and config versions', () => pruneVersions(api, inputs.stack, snapshot))
      } else {
        core.setFailed(verdict.summary)
      }
    } finally {
      api.close()
      await tunnel.close()
    }
  } finally {
    await workdir.remove()
  }
}

interface WaitPlan {
  stack: string
  baseline: Baseline
  deadline: number
  rollbackOnFailure: boolean
  image: PushedImage | undefined
}

/** Warn about settings Swarm cannot judge by, then watch the rollout to a verdict. */
async function waitForVerdict(api: SwarmApi, tunnel: DockerTunnel, plan: WaitPlan): Promise<{ verdict: Verdict; snapshot: Snapshot | undefined }> {
  const deployedAt = Date.now()
  const images = new Map(plan.image?.healthcheck ? [[plan.image.pinned, plan.image.healthcheck]] : [])
  for (const warning of configWarnings(stackServices(await api.snapshot(plan.stack), plan.stack), images, plan.deadline - Date.now())) core.warning(warning)
  const callsBeforeWait = api.calls()

  const { verdict, snapshot, polls, verdictAt } = await core.group('Wait for the rollout', () =>
    watch(api, {
      stack: plan.stack,
      baseline: plan.baseline,
      deployedAt,
      deadline: plan.deadline,
      pollMs: POLL_MS,
      rollbackOnFailure: plan.rollbackOnFailure,
      log: core.info
    })
  )

  const waitCalls = api.calls() - callsBeforeWait
  core.info(`Verdict ${verdict.status} after ${((verdictAt - deployedAt) / 1000).toFixed(1)}s: ${polls} polls, ${waitCalls} API calls, ${tunnel.sshConnections() || 'no'} SSH connection(s)`)
  core.debug(
    `swarm-deploy stats ${JSON.stringify({
      polls,
      apiCalls: waitCalls,
      apiCallsTotal: api.calls(),
      sshConnections: tunnel.sshConnections(),
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      verdictAt,
      deployedAt
    })}`
  )
  return { verdict, snapshot }
}

/** `docker stack deploy` ran into the deadline: what reached Swarm is unknown, so no service is judged. */
function deployStopped(stack: string, error: CliTimeout): Verdict {
  return {
    status: 'timed-out',
    services: [],
    summary: `Stack ${stack} timed out: ${error.message}. Some services may have been updated; check the manager (docker stack ps ${stack}) and deploy again.`
  }
}

/** Compose interpolation values with IMAGE set, when this run builds one. */
function withImage(values: Map<string, string>, image: string | undefined): Map<string, string> {
  return image === undefined ? values : new Map([...values, ['IMAGE', image]])
}

/**
 * A key for secret version names that is stable across runs and never leaves
 * the runner: derived from the SSH key (rotating it renames secret versions
 * once). Without SSH only the stack name keys it, which still defeats
 * precomputed tables but not a guess aimed at this stack.
 */
function secretKeyOf(inputs: Inputs): Buffer {
  const ssh = inputs.target.kind === 'ssh' ? inputs.target.privateKey : ''
  return createHash('sha256').update(`swarm-deploy secret versions\0${inputs.stack}\0${ssh}`).digest()
}

/** Failed tasks with their log tails, printed before the error and kept for the summary. */
async function showDiagnostics(api: SwarmApi, verdict: Verdict, deployStarted: number, secrets: string[]): Promise<Diagnosis[]> {
  const found = await diagnose(api, verdict, Math.floor(deployStarted / 1000) - 5)
  const clean = found.map(d => ({ ...d, logTail: redact(d.logTail, secrets) }))
  for (const { failure, logTail } of clean) {
    core.info(describeFailure(failure))
    core.info(logTail === '' ? '    (no log output since the deploy began)' : logTail.split('\n').map(l => `    | ${l}`).join('\n'))
  }
  if (clean.length === 0) core.info('No failed task of this deploy to show.')
  return clean
}

/**
 * After a successful deploy only: versions that neither the current specs nor
 * the specs kept for rollback use. After a failure nothing is removed, so
 * Swarm (or a person) can still roll back.
 */
async function pruneVersions(api: SwarmApi, stack: string, converged: Snapshot): Promise<void> {
  const inUse = namesInUse(stackServices(converged, stack))
  const unused = (await api.listObjects(stack)).filter(o => isVersionOf(stack, o.name) && !inUse.has(o.name))
  for (const object of unused) {
    try {
      await api.removeObject(object.kind, object.id)
      core.info(`Removed ${object.kind} ${object.name}`)
    } catch (error) {
      // The deploy converged; a version something else still holds is no reason to fail it.
      core.warning(`Could not remove ${object.kind} ${object.name}: ${(error as Error).message}`)
    }
  }
  if (unused.length === 0) core.info('Nothing to remove.')
}

async function checkManager(api: SwarmApi, lastDialError: () => string | undefined): Promise<void> {
  let info
  try {
    info = await api.info()
  } catch (error) {
    const far = lastDialError()
    throw new Error(`cannot reach the Docker engine: ${far ?? (error as Error).message}`)
  }
  if (!info.isManager) {
    throw new Error(`the Docker engine (version ${info.serverVersion}, swarm state ${info.swarmState}) is not a swarm manager: point host at a manager node`)
  }
  core.info(`Docker ${info.serverVersion}, swarm manager`)
}

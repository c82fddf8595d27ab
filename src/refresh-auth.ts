// The refresh (`refresh-registry-auth: true`, `swarm-deploy refresh-auth`):
// a fresh login (a new ECR token), then each service of the stack gets the
// new registry credential and nothing else, the way `docker service update
// --with-registry-auth` gives it: the spec as the API gave it, at the version
// it was read at, with the credential in the X-Registry-Auth header. Swarm
// does not restart running tasks for a change of pull credentials alone
// (swarmkit#2351); the tasks it starts later pull with the new one.
// Its own entry point beside runDeploy, in the same session (src/session.ts).
import type { RefreshDecision } from './deploy/registry-auth.js'
import { encodeRegistryAuth, isOutOfSequence, refreshDecision, UPDATE_ATTEMPTS } from './deploy/registry-auth.js'
import type { RefreshInputs } from './inputs/refresh-inputs.js'
import { lockTtlMs } from './lock/lock.js'
import type { PhaseTime, Stopped } from './phases.js'
import { reaching, timingPhases, UnreachableError } from './phases.js'
import { checkKnownHosts, PlanError } from './plan.js'
import type { Adapters, Host, Reporter, SwarmApi } from './ports.js'
import { shortLivedRefresh, shortLivedToken, STORED_EXPIRY } from './registry/expiry.js'
import { login, resolveAuth } from './registry/login.js'
import { addConnectionSecrets, Secrets } from './secrets.js'
import type { Local } from './session.js'
import { withSession } from './session.js'

export interface RefreshedService {
  name: string
  /** `refreshed`; `skipped`: its image is on another registry; `busy`: a rollout is under way or paused, left alone. */
  result: 'refreshed' | 'skipped' | 'busy'
  detail: string
}

export interface RefreshOutcome {
  /** `refreshed`: every service on the registry has the new credential. `failed`: some could not get it. */
  status: 'refreshed' | 'failed' | undefined
  stack: string
  registry: string
  target: string | undefined
  services: RefreshedService[]
  /** ISO time the new credential stops working (ECR tokens). */
  expiresAt: string | undefined
  /** Why the new credential stops working soon though its time is unknown (a GitHub token that dies with the job). */
  shortLived?: string
  stopped: Stopped | undefined
  startedAt: number
  seconds: number
  phases: PhaseTime[]
}

/** A refresh that has not begun: what it is known to be so far is filled in as it goes. */
export function emptyRefreshOutcome(inputs: Pick<RefreshInputs, 'stack' | 'registry'>, startedAt: number): RefreshOutcome {
  return {
    status: undefined,
    stack: inputs.stack,
    registry: inputs.registry.registry,
    target: undefined,
    services: [],
    expiresAt: undefined,
    stopped: undefined,
    startedAt,
    seconds: 0,
    phases: []
  }
}

/** `outcome`: the front end's, when it must read what was known so far after a cancel. */
export async function runRefreshAuth(
  inputs: RefreshInputs,
  host: Host,
  adapters: Adapters,
  reporter: Reporter,
  outcome: RefreshOutcome = emptyRefreshOutcome(inputs, host.now())
): Promise<RefreshOutcome> {
  const { startedAt } = outcome
  const secrets = new Secrets(reporter)
  // Mask first: nothing may print before every secret is registered.
  addConnectionSecrets(secrets, inputs.target, inputs.registry)
  const timed = timingPhases(reporter, host.now, startedAt, outcome.phases)
  try {
    // Before the login: a known-hosts line that cannot serve is bad input, found without the network.
    checkKnownHosts(inputs.target)
    for (const warning of inputs.warnings) reporter.warn(warning)
    await refresh(inputs, host, adapters, timed, secrets, outcome)
  } catch (error) {
    const message = secrets.redact(error instanceof Error ? error.message : String(error))
    outcome.stopped = { kind: error instanceof PlanError ? 'input' : error instanceof UnreachableError ? 'unreachable' : 'error', message }
  }
  outcome.seconds = Math.round((host.now() - startedAt) / 1000)
  return outcome
}

async function refresh(inputs: RefreshInputs, host: Host, adapters: Adapters, reporter: Reporter, secrets: Secrets, outcome: RefreshOutcome): Promise<void> {
  // Before the swarm is touched: a credential the registry refuses must not replace one that may still work.
  const logIn = async ({ cli, workdir }: Local) => {
    const auth = await reaching(() => resolveAuth(inputs.registry, adapters.ecrToken))
    if (!auth) throw new Error(`no credentials for ${inputs.registry.registry}`)
    secrets.add(auth.password)
    await reporter.phase(`Log in to ${auth.registry}`, () => reaching(() => login(cli, workdir.dockerConfig, auth)))
    if (auth.expiresAt) {
      outcome.expiresAt = auth.expiresAt.toISOString()
      reporter.info(STORED_EXPIRY.refreshed(auth.registry, auth.expiresAt, host.now()))
    }
    const shortLived = shortLivedToken(auth, host.env)
    if (shortLived) {
      outcome.shortLived = shortLivedRefresh(auth.registry, shortLived)
      reporter.warn(outcome.shortLived)
    }
    const header = encodeRegistryAuth(auth)
    // Every encoded form the header could be seen in is hidden too.
    secrets.add(header)
    return { registry: auth.registry, header }
  }
  // A deploy of the stack updates the same services: the refresh waits for it, and it for the refresh.
  const lock = { stack: inputs.stack, ttlMs: lockTtlMs(inputs.timeoutMs, 'swarm'), waitMs: inputs.lockTimeoutMs }
  const deps = { host, adapters, reporter, redact: (text: string) => secrets.redact(text) }
  const { registry } = await withSession(inputs.target, deps, { login: logIn, connectAfterLogin: true, lock }, async ({ prepared, tunnel, api }) => {
    outcome.target = tunnel.description
    await reporter.phase(`Refresh the registry credential of stack ${inputs.stack}`, async () => {
      const { services } = await api.snapshot(inputs.stack)
      if (services.length === 0) throw new Error(`stack ${inputs.stack} has no services on this swarm: nothing to refresh`)
      for (const listed of [...services].sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name))) {
        const result = await refreshService(api, listed.ID, listed.Spec.Name, prepared.registry, prepared.header, reporter, secrets)
        outcome.services.push(result)
        reporter.info(`${result.name}: ${result.detail}`)
      }
    })
    return prepared
  })
  const refreshed = outcome.services.filter(s => s.result === 'refreshed').length
  const busy = outcome.services.filter(s => s.result === 'busy').length
  if (refreshed + busy === 0) throw new Error(`no service of stack ${inputs.stack} runs an image from ${registry}: nothing to refresh`)
  outcome.status = busy === 0 ? 'refreshed' : 'failed'
  reporter.info(
    busy === 0
      ? `Stack ${inputs.stack}: ${refreshed} service(s) have the new credential for ${registry}; running tasks were left running`
      : `Stack ${inputs.stack}: ${busy} service(s) kept the old credential (a rollout under way or paused); run the refresh again once it has ended`
  )
}

/**
 * One service: read it, decide, update it from the spec just read. A change
 * made by someone else in between (`update out of sequence`) means reading it
 * again and deciding again, a bounded number of times.
 */
async function refreshService(
  api: SwarmApi,
  id: string,
  name: string,
  registry: string,
  header: string,
  reporter: Reporter,
  secrets: Secrets
): Promise<RefreshedService> {
  for (let attempt = 1; ; attempt++) {
    const service = await api.readService(id)
    const decision: RefreshDecision = refreshDecision(service, registry)
    if (decision.kind === 'other-registry') return { name, result: 'skipped', detail: `left as it is: ${decision.reason}` }
    if (decision.kind === 'busy') {
      reporter.warn(`${name}: not refreshed: ${decision.reason}`)
      return { name, result: 'busy', detail: `not refreshed: ${decision.reason}` }
    }
    try {
      const warnings = await api.updateRegistryAuth(id, service.Version.Index, service.Spec, header)
      for (const warning of warnings) reporter.warn(`${name}: ${secrets.redact(warning)}`)
      return { name, result: 'refreshed', detail: `new credential stored (spec version ${service.Version.Index}, nothing else changed)` }
    } catch (error) {
      if (!isOutOfSequence(error) || attempt >= UPDATE_ATTEMPTS) throw new Error(`${name}: the update was refused: ${secrets.redact((error as Error).message)}`)
      reporter.info(`${name}: changed while it was being refreshed (update out of sequence); reading it again (attempt ${attempt + 1} of ${UPDATE_ATTEMPTS})`)
    }
  }
}

// `swarm-deploy rebalance --stack NAME`: its own entry point beside runDeploy,
// on the same session (src/session.ts withSession): the connection, the engine
// check and the stack's deploy lock (a deploy of the stack updates the same
// services), then rebalanceStack. With dry-run no lock is taken and nothing
// changes.
import type { StackStatus } from '../converge/verdict.js'
import { lockTtlMs } from '../lock/lock.js'
import type { PhaseTime, Stopped } from '../phases.js'
import { timingPhases, UnreachableError } from '../phases.js'
import { checkKnownHosts, PlanError } from '../plan.js'
import type { Adapters, Host, LocalTarget, Reporter, SshTarget } from '../ports.js'
import { addConnectionSecrets, Secrets } from '../secrets.js'
import { withSession } from '../session.js'
import type { RebalanceResult } from './rebalance.js'
import { rebalanceStack } from './rebalance.js'

export interface RebalanceInputs {
  target: SshTarget | LocalTarget
  stack: string
  /** The bound on the whole run, the wait for the verdict included (`timeout`). */
  timeoutMs: number
  lockTimeoutMs: number
  rollbackOnFailure: boolean
  dryRun: boolean
}

export interface RebalanceOutcome {
  /** `converged`: the moved services converged, or nothing needed moving (or dry-run). Else the judge's status. */
  status: StackStatus | undefined
  result: RebalanceResult | undefined
  stopped: Stopped | undefined
  startedAt: number
  phases: PhaseTime[]
}

export async function runRebalance(inputs: RebalanceInputs, host: Host, adapters: Adapters, reporter: Reporter): Promise<RebalanceOutcome> {
  const startedAt = host.now()
  const outcome: RebalanceOutcome = { status: undefined, result: undefined, stopped: undefined, startedAt, phases: [] }
  const secrets = new Secrets(reporter)
  addConnectionSecrets(secrets, inputs.target, undefined)
  const timed = timingPhases(reporter, host.now, startedAt, outcome.phases)
  const redact = (text: string): string => secrets.redact(text)
  const deadline = startedAt + inputs.timeoutMs
  try {
    checkKnownHosts(inputs.target)
    const lock = inputs.dryRun ? undefined : { stack: inputs.stack, ttlMs: lockTtlMs(inputs.timeoutMs, 'swarm'), waitMs: inputs.lockTimeoutMs }
    const deps = { host, adapters, reporter: timed, redact }
    outcome.result = await withSession(inputs.target, deps, lock ? { lock } : {}, ({ api }) =>
      rebalanceStack({ api, stack: inputs.stack, host, reporter: timed, redact, deadline, rollbackOnFailure: inputs.rollbackOnFailure, dryRun: inputs.dryRun })
    )
    outcome.status = outcome.result.verdict?.status ?? 'converged'
  } catch (error) {
    const message = redact(error instanceof Error ? error.message : String(error))
    outcome.stopped = { kind: error instanceof PlanError ? 'input' : error instanceof UnreachableError ? 'unreachable' : 'error', message }
  }
  return outcome
}

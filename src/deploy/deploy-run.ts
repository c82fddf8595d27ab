// What every round and step of a deploy shares: the run (the plan, the
// session's CLI and API, the reporter, the round's deadline), and how a wait
// for a verdict is set up from the snapshot read right after a deploy.
import { deployedOf } from '../converge/spec.js'
import type { Baseline } from '../converge/verdict.js'
import type { Wait } from '../converge/watch.js'
import type { Outcome } from '../outcome.js'
import type { Plan } from '../plan.js'
import type { DockerCli, DockerTunnel, Host, Reporter, SmokeGet, SwarmApi } from '../ports.js'
import type { Secrets } from '../secrets.js'
import type { Snapshot } from '../swarm/model.js'
import { CliTimeout } from '../docker-cli.js'
import type { DeployPlan } from './stack-deploy.js'
import { deployStack } from './stack-deploy.js'

export interface DeployRun {
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

/** The wait for this round's verdict: the rollout's settings, from `after` (its first poll) to the round's deadline. */
export function waitOf(run: DeployRun, baseline: Baseline, after: Snapshot, deployedAt: number): Wait {
  const { plan, host, reporter, deadline } = run
  const { stack, pollMs, rollbackOnFailure, capacityTimeoutMs } = plan.rollout
  // Right after the deploy: the specs it put there, which later changes by others are told apart from.
  const deployed = deployedOf(baseline, after, stack)
  const log = (line: string): void => reporter.info(line)
  return {
    stack,
    pollMs,
    rollbackOnFailure,
    ...(capacityTimeoutMs === undefined ? {} : { capacityTimeoutMs }),
    baseline,
    deployed,
    deployedAt,
    deadline,
    log,
    now: host.now,
    sleep: host.sleep,
    first: { snapshot: after, polledAt: deployedAt }
  }
}

/** `docker stack deploy` of the compose files by the plan, or the timeout that stopped it (what reached Swarm is then unknown). */
export async function deployOrStop(run: DeployRun, plan: DeployPlan, compose: Array<{ path: string; text: string }>): Promise<CliTimeout | undefined> {
  const { cli, api, tunnel, host, reporter, secrets } = run
  try {
    await deployStack(cli, api, plan, compose, tunnel.socketPath, {
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
}

// What the judge says, as data: the verdict on a stack and on each of its
// services, and the records of the swarm before and right after the deploy
// that the verdict is tied to.
import type { Service } from '../swarm/model.js'

export type StackStatus = 'pending' | 'converged' | 'failed' | 'rolled-back' | 'superseded' | 'timed-out'
export type ServiceState = 'pending' | 'rolling-back' | 'converged' | 'failed' | 'rolled-back' | 'superseded'
export type ServiceChange = 'created' | 'updated' | 'unchanged'
export type ServiceMode = 'replicated' | 'global' | 'replicated-job' | 'global-job'

export interface ServiceBaseline {
  id: string
  templateKey: string
  /** The whole spec: whether this deploy changed the service at all. */
  specKey: string
  updateStartedAt: string | undefined
}

/** What the swarm looked like just before this deploy. */
export interface Baseline {
  services: Record<string, ServiceBaseline>
  taskIds: string[]
}

/**
 * A service as `docker stack deploy` left it: the spec this deploy put
 * there, by content (Swarm bumps Version.Index for its own status changes).
 * A spec that differs later was put there by someone else, unless Swarm
 * rolled the service back to its previous spec.
 */
export interface DeployedService {
  id: string
  spec: Service['Spec']
  specKey: string
  /** The spec Swarm's own rollback returns to. */
  previousKey: string | undefined
  change: ServiceChange
}

/** Each service of the stack right after `docker stack deploy` returned, by name. */
export type Deployed = Record<string, DeployedService>

export interface TaskFailure {
  taskId: string
  service: string
  slot: number | undefined
  node: string
  state: string
  error: string
  exitCode: number | undefined
  containerId: string | undefined
}

/** One task as the job summary draws it. */
export interface TaskView {
  service: string
  slot: number | undefined
  node: string
  state: string
  /** Runs the service's current spec. */
  current: boolean
}

export interface ServiceVerdict {
  name: string
  id: string
  image: string
  mode: ServiceMode
  change: ServiceChange
  state: ServiceState
  desired: number
  running: number
  updateState: string | undefined
  /** One line a person can act on. */
  message: string
  nodes: string[]
  /** Why tasks of the current spec are not running yet, most frequent first. */
  pending: string[]
  /** Tasks started by this deploy that failed or were rejected. */
  failures: TaskFailure[]
  /** Swarm paused this deploy's update and the action should ask for a rollback. */
  rollbackWanted: boolean
  tasks: TaskView[]
  /** Tasks waiting only for a node with enough free CPU or memory (src/converge/capacity.ts). */
  waitingForCapacity?: number
}

export interface Verdict {
  status: StackStatus
  services: ServiceVerdict[]
  /** One sentence for the final error or notice. */
  summary: string
}

export interface JudgeClock {
  /** Milliseconds since the deploy command returned. */
  sinceDeployMs: number
  /** When (in sinceDeployMs) each task was first seen running: see seenRunning. */
  runningSince: Pick<ReadonlyMap<string, number>, 'get'>
  deadlineReached: boolean
  /** On a paused update, ask Swarm to roll back instead of failing (the rollout settings hold the one default). */
  rollbackOnFailure: boolean
  /** How long tasks that wait only for capacity may wait before failed (`capacity-timeout`); absent: UNSCHEDULABLE_GRACE_MS. */
  capacityTimeoutMs?: number
}

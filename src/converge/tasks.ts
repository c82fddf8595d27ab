// Task accounting: how many tasks of a service run its current spec, which
// have stayed up long enough to count, which failed, and why the rest are
// pending. Swarm keeps history tasks; only those it still wants count.
import type { Node, Service, Snapshot, Task } from '../swarm/model.js'
import { globalNodes, GONE_NODE_STATES } from '../swarm/placement.js'
import { isJob, monitorMs, runsCurrentSpec } from './spec.js'
import type { JudgeClock, ServiceMode, TaskFailure, TaskView } from './verdict.js'

export const ACTIVE_DESIRED = new Set(['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running'])
export const FAILED_STATES = new Set(['failed', 'rejected'])

/**
 * Fold one snapshot into the record of when each task was first seen running.
 * Tasks that stopped running or left the snapshot are dropped, so a task is
 * timed only from its latest unbroken run the watcher saw.
 */
export function seenRunning(previous: ReadonlyMap<string, number>, snapshot: Snapshot, sinceDeployMs: number): Map<string, number> {
  const next = new Map<string, number>()
  for (const task of snapshot.tasks) {
    if (task.Status.State === 'running') next.set(task.ID, previous.get(task.ID) ?? sinceDeployMs)
  }
  return next
}

export function hostname(nodes: Map<string, Node>, id: string | undefined): string {
  if (!id) return '(unassigned)'
  return nodes.get(id)?.Description?.Hostname ?? id.slice(0, 12)
}

export function countedReasons(reasons: string[]): string[] {
  const counts = new Map<string, number>()
  for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1)
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([reason, n]) => (n > 1 ? `${n} tasks ${reason}` : `1 task ${reason}`))
}

export interface TaskCount {
  desired: number
  running: number
  /** Every task of the current spec is running (or, for a job, complete). */
  done: boolean
  /** Done, and every running task this deploy started has stayed up for the monitor period. */
  settled: boolean
  /** Running tasks that count as up: from before this deploy, or up for the monitor period. */
  up: number
  nodes: string[]
  pending: string[]
  /** The scheduler's reason when a task of the current spec cannot be placed. */
  unschedulable: string | undefined
  /** The tasks of the current spec that no node can take now ("no suitable node"). */
  unplaced: Task[]
  /** Every running task runs the current spec and has stayed up for the monitor period (what runs is settled, whatever is missing). */
  runningSettled: boolean
}

const reasonOf = (t: Task): string => `${t.Status.State}: ${t.Status.Err || t.Status.Message || ''}`.trim()

export function countTasks(
  service: Service,
  mode: ServiceMode,
  tasks: Task[],
  fresh: (t: Task) => boolean,
  nodes: Map<string, Node>,
  clock: JudgeClock
): TaskCount {
  // Tasks on a node that is gone neither count nor block.
  const live = (t: Task): boolean => !t.NodeID || !GONE_NODE_STATES.has(nodes.get(t.NodeID)?.Status.State ?? 'ready')
  // Only tasks Swarm still wants: an old task of the same image stuck in pending is history.
  const unplaced = tasks.filter(
    t =>
      ACTIVE_DESIRED.has(t.DesiredState) &&
      live(t) &&
      runsCurrentSpec(t, service) &&
      t.Status.State === 'pending' &&
      /no suitable node/.test(t.Status.Err ?? '')
  )
  const unschedulable = unplaced[0]?.Status.Err
  // A global service owes a task to each node its constraints admit, and to any
  // node Swarm placed one of its current tasks on: counting tasks alone would
  // find 0 of 0 before the orchestrator has created them.
  const owedNodes = (placed: Task[]): number =>
    new Set([...globalNodes(service.Spec.TaskTemplate.Placement?.Constraints ?? [], nodes.values()), ...placed.flatMap(t => (t.NodeID ? [t.NodeID] : []))]).size
  if (isJob(mode)) {
    // A job is done when this deploy's tasks have completed.
    const mine = tasks.filter(t => fresh(t) && runsCurrentSpec(t, service))
    const complete = mine.filter(t => t.Status.State === 'complete')
    const desired =
      mode === 'replicated-job'
        ? (service.Spec.Mode.ReplicatedJob?.TotalCompletions ?? service.Spec.Mode.ReplicatedJob?.MaxConcurrent ?? 1)
        : Math.max(owedNodes(mine.filter(live)), 1)
    const waiting = mine.filter(t => t.Status.State !== 'complete' && !FAILED_STATES.has(t.Status.State))
    return {
      desired,
      running: complete.length,
      done: complete.length >= desired,
      settled: complete.length >= desired,
      up: complete.length,
      nodes: [...new Set(complete.map(t => hostname(nodes, t.NodeID)))].sort(),
      pending: countedReasons(waiting.map(reasonOf)),
      unschedulable,
      unplaced,
      runningSettled: complete.length >= desired
    }
  }
  const active = tasks.filter(t => ACTIVE_DESIRED.has(t.DesiredState) && live(t))
  const current = active.filter(t => runsCurrentSpec(t, service))
  const running = current.filter(t => t.Status.State === 'running')
  const stale = active.filter(t => !runsCurrentSpec(t, service))
  const desired = mode === 'replicated' ? (service.Spec.Mode.Replicated?.Replicas ?? 1) : owedNodes(current)
  // A node lost during a start-first update can leave two running tasks of
  // the current spec in one slot, which Swarm does not clean up: a replicated
  // service counts the slots that run the current spec, a global one the nodes.
  const runningCount = new Set(running.map(t => (mode === 'replicated' ? (t.Slot ?? t.ID) : (t.NodeID ?? t.ID)))).size
  const window = monitorMs(service)
  const isUp = (t: Task): boolean => !fresh(t) || clock.sinceDeployMs - (clock.runningSince.get(t.ID) ?? clock.sinceDeployMs) >= window
  const reasons = current.filter(t => t.Status.State !== 'running').map(reasonOf)
  if (stale.length > 0) reasons.push(...stale.map(() => 'of the previous spec still to be replaced'))
  const settling = running.filter(t => !isUp(t))
  reasons.push(...settling.map(() => `running for less than the ${window / 1000} s monitor period`))
  const done = runningCount === desired && stale.length === 0
  return {
    desired,
    running: runningCount,
    done,
    settled: done && settling.length === 0,
    up: running.length - settling.length,
    nodes: [...new Set(running.map(t => hostname(nodes, t.NodeID)))].sort(),
    pending: countedReasons(reasons),
    unschedulable,
    unplaced,
    runningSettled: stale.length === 0 && settling.length === 0
  }
}

const MAX_TASK_VIEWS = 24

export function taskViews(service: Service, tasks: Task[], fresh: (t: Task) => boolean, nodes: Map<string, Node>): TaskView[] {
  const shown = tasks.filter(t => ACTIVE_DESIRED.has(t.DesiredState) || t.Status.State === 'complete' || (fresh(t) && FAILED_STATES.has(t.Status.State)))
  return shown.slice(-MAX_TASK_VIEWS).map(t => ({
    service: service.Spec.Name,
    slot: t.Slot,
    node: hostname(nodes, t.NodeID),
    state: t.Status.State,
    current: runsCurrentSpec(t, service)
  }))
}

export function failuresOf(service: Service, tasks: Task[], fresh: (t: Task) => boolean, nodes: Map<string, Node>): TaskFailure[] {
  return tasks
    .filter(t => fresh(t) && FAILED_STATES.has(t.Status.State))
    .map(t => ({
      taskId: t.ID,
      service: service.Spec.Name,
      slot: t.Slot,
      node: hostname(nodes, t.NodeID),
      state: t.Status.State,
      error: t.Status.Err || t.Status.Message || '(no error reported)',
      exitCode: t.Status.ContainerStatus?.ExitCode,
      containerId: t.Status.ContainerStatus?.ContainerID
    }))
}

// The verdict is data: a pure function of what Swarm reported before the
// deploy (the baseline) and what it reports now. The watcher only fetches
// snapshots and asks this module what they mean.
import type { Node, Service, Snapshot, Task, TaskSpec } from '../swarm/model.js'
import { STACK_LABEL } from '../swarm/model.js'
import { specChanges } from './spec-diff.js'
import { stableStringify } from './stable-json.js'

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
  /** On a paused update, ask Swarm to roll back (default) instead of failing. */
  rollbackOnFailure?: boolean
}

/**
 * A spec change that starts no rolling update (swarmkit skips updates for
 * some fields) is accepted once its tasks run and this long has passed
 * without Swarm starting one.
 */
export const NO_UPDATE_GRACE_MS = 10_000

/**
 * A task this deploy started counts as up once it has stayed running for the
 * service's update monitor period, as Swarm's own updater counts it; a
 * container that exits a moment after it starts is running in some
 * snapshots. This is Swarm's default monitor, used when none is set.
 */
export const DEFAULT_MONITOR_MS = 5_000

/** "no suitable node" can clear when a node joins or frees up; past this it fails. */
export const UNSCHEDULABLE_GRACE_MS = 15_000

// Task errors that no retry will fix.
const PULL_ERROR = /no such image|pull access denied|manifest unknown|manifest for .* not found|repository does not exist|unauthorized|denied: /i

const ACTIVE_DESIRED = new Set(['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running'])
const FAILED_STATES = new Set(['failed', 'rejected'])
// Tasks on these nodes will be replaced elsewhere (or, for a global service, are not owed).
const GONE_NODE_STATES = new Set(['down', 'disconnected'])

/** Stable JSON of the task template: equal strings mean Swarm has nothing to roll out. */
export function templateKey(template: TaskSpec): string {
  return stableStringify(template)
}

const specKeyOf = (spec: Service['Spec']): string => stableStringify(spec)

export function stackServices(snapshot: Snapshot, stack: string): Service[] {
  return snapshot.services.filter(s => s.Spec.Labels?.[STACK_LABEL] === stack)
}

export function baselineOf(snapshot: Snapshot, stack: string): Baseline {
  const services: Record<string, ServiceBaseline> = {}
  for (const service of stackServices(snapshot, stack)) {
    services[service.Spec.Name] = {
      id: service.ID,
      templateKey: templateKey(service.Spec.TaskTemplate),
      specKey: specKeyOf(service.Spec),
      updateStartedAt: service.UpdateStatus?.StartedAt
    }
  }
  return { services, taskIds: snapshot.tasks.map(t => t.ID) }
}

/** Record what this deploy put on the swarm, from the first snapshot after `docker stack deploy` returned. */
export function deployedOf(baseline: Baseline, snapshot: Snapshot, stack: string): Deployed {
  const deployed: Deployed = {}
  for (const service of stackServices(snapshot, stack)) {
    const before = baseline.services[service.Spec.Name]
    const specKey = specKeyOf(service.Spec)
    deployed[service.Spec.Name] = {
      id: service.ID,
      spec: service.Spec,
      specKey,
      previousKey: service.PreviousSpec ? specKeyOf(service.PreviousSpec as Service['Spec']) : undefined,
      change: before === undefined || before.id !== service.ID ? 'created' : before.specKey === specKey ? 'unchanged' : 'updated'
    }
  }
  return deployed
}

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

/** The service's update monitor period, in ms. */
export function monitorMs(service: Service): number {
  const monitor = service.Spec.UpdateConfig?.Monitor ?? 0
  return monitor > 0 ? monitor / 1e6 : DEFAULT_MONITOR_MS
}

export const isJob = (mode: ServiceMode): boolean => mode === 'replicated-job' || mode === 'global-job'

export function modeOf(service: Pick<Service, 'Spec'>): ServiceMode {
  const mode = service.Spec.Mode
  if (mode.Global) return 'global'
  if (mode.ReplicatedJob) return 'replicated-job'
  if (mode.GlobalJob) return 'global-job'
  return 'replicated'
}

/** A task runs the service's current spec (image and forced-restart counter). */
function runsCurrentSpec(task: Task, service: Service): boolean {
  const template = service.Spec.TaskTemplate
  return (
    task.Spec.ContainerSpec?.Image === template.ContainerSpec?.Image &&
    (task.Spec.ForceUpdate ?? 0) === (template.ForceUpdate ?? 0)
  )
}

function hostname(nodes: Map<string, Node>, id: string | undefined): string {
  if (!id) return '(unassigned)'
  return nodes.get(id)?.Description?.Hostname ?? id.slice(0, 12)
}

function countedReasons(reasons: string[]): string[] {
  const counts = new Map<string, number>()
  for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1)
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => (n > 1 ? `${n} tasks ${reason}` : `1 task ${reason}`))
}

interface TaskCount {
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
}

const reasonOf = (t: Task): string => `${t.Status.State}: ${t.Status.Err || t.Status.Message || ''}`.trim()

function countTasks(service: Service, mode: ServiceMode, tasks: Task[], fresh: (t: Task) => boolean, nodes: Map<string, Node>, clock: JudgeClock): TaskCount {
  // Tasks on a node that is gone neither count nor block.
  const live = (t: Task): boolean => !t.NodeID || !GONE_NODE_STATES.has(nodes.get(t.NodeID)?.Status.State ?? 'ready')
  // Only tasks Swarm still wants: an old task of the same image stuck in pending is history.
  const unschedulable = tasks.find(
    t => ACTIVE_DESIRED.has(t.DesiredState) && live(t) && runsCurrentSpec(t, service) && t.Status.State === 'pending' && /no suitable node/.test(t.Status.Err ?? '')
  )?.Status.Err
  if (isJob(mode)) {
    // A job is done when this deploy's tasks have completed.
    const mine = tasks.filter(t => fresh(t) && runsCurrentSpec(t, service))
    const complete = mine.filter(t => t.Status.State === 'complete')
    const desired =
      mode === 'replicated-job'
        ? (service.Spec.Mode.ReplicatedJob?.TotalCompletions ?? service.Spec.Mode.ReplicatedJob?.MaxConcurrent ?? 1)
        : Math.max(mine.filter(live).length, 1)
    const waiting = mine.filter(t => t.Status.State !== 'complete' && !FAILED_STATES.has(t.Status.State))
    return {
      desired,
      running: complete.length,
      done: complete.length >= desired,
      settled: complete.length >= desired,
      up: complete.length,
      nodes: [...new Set(complete.map(t => hostname(nodes, t.NodeID)))].sort(),
      pending: countedReasons(waiting.map(reasonOf)),
      unschedulable
    }
  }
  const active = tasks.filter(t => ACTIVE_DESIRED.has(t.DesiredState) && live(t))
  const current = active.filter(t => runsCurrentSpec(t, service))
  const running = current.filter(t => t.Status.State === 'running')
  const stale = active.filter(t => !runsCurrentSpec(t, service))
  const desired = mode === 'replicated' ? (service.Spec.Mode.Replicated?.Replicas ?? 1) : current.length
  // A node lost during a start-first update can leave two running tasks of
  // the current spec in one slot, which Swarm does not clean up: a replicated
  // service counts the slots that run the current spec, not the tasks.
  const runningCount = mode === 'replicated' ? new Set(running.map(t => t.Slot ?? t.ID)).size : running.length
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
    unschedulable
  }
}

const MAX_TASK_VIEWS = 24

function taskViews(service: Service, tasks: Task[], fresh: (t: Task) => boolean, nodes: Map<string, Node>): TaskView[] {
  const shown = tasks.filter(t => ACTIVE_DESIRED.has(t.DesiredState) || t.Status.State === 'complete' || (fresh(t) && FAILED_STATES.has(t.Status.State)))
  return shown.slice(-MAX_TASK_VIEWS).map(t => ({
    service: service.Spec.Name,
    slot: t.Slot,
    node: hostname(nodes, t.NodeID),
    state: t.Status.State,
    current: runsCurrentSpec(t, service)
  }))
}

/** Why a service will not converge without a person, if it will not. */
function hopeless(mode: ServiceMode, change: ServiceChange, count: TaskCount, currentFailures: TaskFailure[], unplaceable: boolean): string | undefined {
  if (unplaceable) return `no node can run it: ${count.unschedulable}`
  const first = currentFailures[0]
  if (!first || count.done) return undefined
  const pull = currentFailures.find(f => PULL_ERROR.test(f.error))
  if (pull) return `the image cannot be pulled on ${pull.node}: ${pull.error}`
  if (isJob(mode)) return `the job failed on ${first.node}: ${first.error}`
  // Every task has failed and none runs now; or, when crashes are staggered so
  // that some task is always briefly running, each has failed twice on
  // average and none has stayed up for the monitor period.
  const slots = Math.max(2, count.desired)
  const failed = currentFailures.length
  if (change === 'created' && ((count.running === 0 && failed >= slots) || (count.up === 0 && failed >= 2 * slots))) {
    return `the new service fails to start and has no previous version to roll back to: ${first.error}`
  }
  return undefined
}

function failuresOf(service: Service, tasks: Task[], fresh: (t: Task) => boolean, nodes: Map<string, Node>): TaskFailure[] {
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

/**
 * Someone else changed or replaced a service this deploy changed, so what
 * Swarm rolls out now is not this deploy: the reason, or undefined.
 */
function superseded(service: Service, mine: DeployedService): string | undefined {
  if (service.ID !== mine.id) return 'removed and created again by someone else during the rollout'
  const key = specKeyOf(service.Spec)
  if (key === mine.specKey) return undefined
  // Swarm's own rollback (failure_action, `docker service rollback`) returns to the previous spec.
  if (key === mine.previousKey && service.UpdateStatus?.State?.startsWith('rollback_')) return undefined
  const changes = specChanges(mine.spec, service.Spec)
  return `changed by someone else during the rollout (${changes.length > 0 ? changes.join('; ') : 'spec changed'}): this deploy's spec no longer runs`
}

function judgeService(
  service: Service,
  baseline: Baseline,
  mine: DeployedService | undefined,
  snapshot: Snapshot,
  clock: JudgeClock,
  nodes: Map<string, Node>,
  fresh: (t: Task) => boolean
): ServiceVerdict {
  const before = baseline.services[service.Spec.Name]
  const mode = modeOf(service)
  const tasks = snapshot.tasks.filter(t => t.ServiceID === service.ID)
  const replaced = before !== undefined && before.id !== service.ID
  const change: ServiceChange =
    before === undefined || replaced ? 'created' : before.templateKey === templateKey(service.Spec.TaskTemplate) ? 'unchanged' : 'updated'
  const update = service.UpdateStatus
  // An UpdateStatus only speaks for this deploy if it began after the baseline.
  const ownUpdate = update?.State !== undefined && (change === 'created' || update.StartedAt !== before?.updateStartedAt) ? update : undefined
  const count = countTasks(service, mode, tasks, fresh, nodes, clock)
  const failures = failuresOf(service, tasks, fresh, nodes)

  const verdict: ServiceVerdict = {
    name: service.Spec.Name,
    id: service.ID,
    image: service.Spec.TaskTemplate.ContainerSpec?.Image ?? '',
    mode,
    change,
    state: 'pending',
    desired: count.desired,
    running: count.running,
    updateState: ownUpdate?.State,
    message: '',
    nodes: count.nodes,
    pending: count.pending,
    failures,
    rollbackWanted: false,
    tasks: taskViews(service, tasks, fresh, nodes)
  }
  if (mine && mine.change !== 'unchanged') {
    const reason = superseded(service, mine)
    if (reason) return { ...verdict, state: 'superseded', message: reason }
  } else if (mine && (mine.id !== service.ID || mine.specKey !== specKeyOf(service.Spec))) {
    // Not this deploy's change, so not this deploy's verdict either.
    const changes = specChanges(mine.spec, service.Spec)
    return { ...verdict, state: 'converged', message: `not changed by this deploy; changed since by someone else (${changes.join('; ') || 'replaced'}), not judged` }
  }
  const swarmSays = ownUpdate?.Message ? `: ${ownUpdate.Message}` : ''
  const currentIds = new Set(tasks.filter(t => runsCurrentSpec(t, service)).map(t => t.ID))
  const currentFailures = failures.filter(f => currentIds.has(f.taskId))
  // "no suitable node" can clear when a node joins or frees up; past the grace period it will not.
  const unplaceable = count.unschedulable !== undefined && clock.sinceDeployMs >= UNSCHEDULABLE_GRACE_MS
  const stuck = hopeless(mode, change, count, currentFailures, unplaceable)
  switch (ownUpdate?.State) {
    case 'paused':
      return clock.rollbackOnFailure === false
        ? { ...verdict, state: 'failed', message: `update paused by Swarm${swarmSays}; left paused (rollback-on-failure: false)` }
        : { ...verdict, state: 'rolling-back', rollbackWanted: true, message: `update paused by Swarm${swarmSays}; asking it to roll back` }
    case 'rollback_started':
      return { ...verdict, state: 'rolling-back', message: `rolling back${swarmSays}` }
    case 'rollback_completed':
      return { ...verdict, state: 'rolled-back', message: `the update failed and Swarm rolled the service back to its previous spec${swarmSays}` }
    case 'rollback_paused':
      return { ...verdict, state: 'failed', message: `the rollback itself failed and is paused: manual action needed${swarmSays}` }
    case 'completed':
      // With failure_action continue (or a max_failure_ratio) Swarm completes
      // updates whose tasks crash: completed counts only with the tasks
      // running and, once tasks of the new spec have failed, staying up.
      if (count.done && (currentFailures.length === 0 || count.settled)) return { ...verdict, state: 'converged', message: `update completed (${count.running}/${count.desired} running)` }
      if (stuck) return { ...verdict, state: 'failed', message: `update completed but ${stuck}` }
      if (count.done) return { ...verdict, message: `update completed after task failures; checking the tasks stay up (${count.running}/${count.desired} running)` }
      return { ...verdict, message: `update completed; waiting for tasks: ${count.running}/${count.desired} running` }
    case 'updating':
      // Swarm's failure_action handles failing tasks; a task no node can take stalls it for good.
      if (unplaceable) return { ...verdict, state: 'failed', message: `update stalled: ${stuck}` }
      return { ...verdict, message: `updating: ${count.running}/${count.desired} of the new spec running` }
    default:
      break
  }
  const job = isJob(mode)
  const progress = `${count.running}/${count.desired} ${job ? 'complete' : 'running'}`
  if (stuck) return { ...verdict, state: 'failed', message: stuck }
  // A job whose spec did not change is not run again: nothing to wait for.
  if (job && change === 'unchanged') return { ...verdict, state: 'converged', message: 'unchanged job, not run again' }
  if (change === 'updated' && (!count.settled || clock.sinceDeployMs < NO_UPDATE_GRACE_MS)) {
    return { ...verdict, message: `spec changed; waiting for Swarm to start the update (${progress})` }
  }
  if (count.settled) return { ...verdict, state: 'converged', message: `${change}, ${progress}` }
  if (count.done) return { ...verdict, message: `${change === 'created' ? 'started' : 'converging'}: ${progress}; checking they stay up` }
  return { ...verdict, message: `${change === 'created' ? 'starting' : 'converging'}: ${progress}` }
}

/** A service this deploy created or updated that is gone: nothing of it is left to judge. */
function removedVerdict(name: string, mine: DeployedService): ServiceVerdict {
  return {
    name,
    id: mine.id,
    image: mine.spec.TaskTemplate.ContainerSpec?.Image ?? '',
    mode: modeOf({ Spec: mine.spec }),
    change: mine.change,
    state: 'superseded',
    desired: 0,
    running: 0,
    updateState: undefined,
    message: 'removed by someone else during the rollout',
    nodes: [],
    pending: [],
    failures: [],
    rollbackWanted: false,
    tasks: []
  }
}

/**
 * The verdict on one snapshot. `deployed` is what this deploy put on the
 * swarm (deployedOf): a service someone else changed or removed since is
 * superseded, never converged.
 */
export function judge(baseline: Baseline, snapshot: Snapshot, stack: string, clock: JudgeClock, deployed: Deployed): Verdict {
  const nodes = new Map(snapshot.nodes.map(n => [n.ID, n]))
  const known = new Set(baseline.taskIds)
  const fresh = (t: Task): boolean => !known.has(t.ID)
  const present = stackServices(snapshot, stack)
  const names = new Set(present.map(s => s.Spec.Name))
  const removed = Object.entries(deployed).filter(([name, mine]) => mine.change !== 'unchanged' && !names.has(name))
  const services = [
    ...present.map(s => judgeService(s, baseline, deployed[s.Spec.Name], snapshot, clock, nodes, fresh)),
    ...removed.map(([name, mine]) => removedVerdict(name, mine))
  ]
  return conclude(services, stack, clock)
}

/**
 * A service whose verdict no later snapshot changes: its rollout completed
 * (or Swarm rolled it back). The watcher stops polling it; a service this
 * deploy did not change is decided by the first snapshot that shows it up.
 */
export const isDecided = (service: ServiceVerdict): boolean => service.state === 'converged' || service.state === 'rolled-back'

/** The stack's verdict from its services' verdicts: those judged now and those decided earlier. */
export function conclude(services: ServiceVerdict[], stack: string, clock: Pick<JudgeClock, 'deadlineReached'>): Verdict {
  const sorted = [...services].sort((a, b) => a.name.localeCompare(b.name))
  const status = stackStatus(sorted, clock)
  return { status, services: sorted, summary: summarize(sorted, stack, status) }
}

function stackStatus(services: ServiceVerdict[], clock: Pick<JudgeClock, 'deadlineReached'>): StackStatus {
  // Nothing left to run this deploy's spec: never a success.
  if (services.length === 0) return 'failed'
  // A paused update or rollback does not resume by itself: no point waiting.
  if (services.some(s => s.state === 'failed')) return 'failed'
  // Someone else's spec is rolling out: waiting would end in the wrong answer.
  if (services.some(s => s.state === 'superseded')) return 'superseded'
  const unsettled = services.some(s => s.state === 'pending' || s.state === 'rolling-back')
  if (unsettled) return clock.deadlineReached ? 'timed-out' : 'pending'
  if (services.some(s => s.state === 'rolled-back')) return 'rolled-back'
  return 'converged'
}

function summarize(services: ServiceVerdict[], stack: string, status: StackStatus): string {
  const names = (state: ServiceState): string => services.filter(s => s.state === state).map(s => s.name).join(', ')
  switch (status) {
    case 'converged':
      return `Stack ${stack} converged: ${services.length} service(s) running the deployed spec.`
    case 'failed':
      if (services.length === 0) return `Stack ${stack} failed: it has no services left to run this deploy's spec.`
      return `Stack ${stack} failed: ${services.filter(s => s.state === 'failed').map(s => `${s.name} (${s.message})`).join('; ')}.`
    case 'superseded':
      return `Stack ${stack} was superseded: ${services
        .filter(s => s.state === 'superseded')
        .map(s => `${s.name} (${s.message})`)
        .join('; ')}. What runs is not what this deploy put there, and nothing was rolled back: find out who changed it, then deploy again.`
    case 'rolled-back': {
      const cause = services.flatMap(s => s.failures)[0]
      return `Stack ${stack} was rolled back by Swarm: ${names('rolled-back')} failed to update${cause ? ` (${cause.error})` : ''} and run their previous spec again. Fix the image or config and deploy again.`
    }
    case 'timed-out': {
      const pending = services.filter(s => s.state === 'pending' || s.state === 'rolling-back')
      return `Stack ${stack} timed out with ${pending.length} service(s) not converged: ${pending
        .map(s => `${s.name} (${s.message}${s.pending.length ? `; ${s.pending.slice(0, 2).join('; ')}` : ''})`)
        .join('; ')}.`
    }
    default:
      return `Stack ${stack}: waiting for ${services.filter(s => s.state !== 'converged').map(s => s.name).join(', ')}.`
  }
}

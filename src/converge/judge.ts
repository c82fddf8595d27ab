// The verdict is data: a pure function of what Swarm reported before the
// deploy (the baseline) and what it reports now. The watcher only fetches
// snapshots and asks this module what they mean.
import type { Node, Service, Snapshot, Task } from '../swarm/model.js'
import { isJob, modeOf, rescaledOnly, runsCurrentSpec, specKeyOf, stackServices, templateKey } from './spec.js'
import { isBestEffort, reservationsOf, shortfall, waitsForCapacity } from './capacity.js'
import { unlisted, unreachable } from '../exhaustive.js'
import { specChanges } from './spec-diff.js'
import type { TaskCount } from './tasks.js'
import { countTasks, failuresOf, taskViews } from './tasks.js'
import type {
  Baseline,
  Deployed,
  DeployedService,
  JudgeClock,
  ServiceChange,
  ServiceMode,
  ServiceState,
  ServiceVerdict,
  StackStatus,
  TaskFailure,
  Verdict
} from './verdict.js'

/**
 * A spec change that starts no rolling update (swarmkit skips updates for
 * some fields) is accepted once its tasks run and this long has passed
 * without Swarm starting one.
 */
export const NO_UPDATE_GRACE_MS = 10_000

/**
 * "no suitable node" can clear when a node joins or frees up; past this it
 * fails. Tasks that wait only for capacity wait `capacity-timeout` instead,
 * whose default this is.
 */
export const UNSCHEDULABLE_GRACE_MS = 15_000

// Task errors that no retry will fix.
const PULL_ERROR = /no such image|pull access denied|manifest unknown|manifest for .* not found|repository does not exist|unauthorized|denied: /i

/** Why a service will not converge without a person, if it will not. */
function hopeless(
  mode: ServiceMode,
  change: ServiceChange,
  count: TaskCount,
  currentFailures: TaskFailure[],
  unplaceable: string | undefined
): string | undefined {
  if (unplaceable) return `no node can run it: ${unplaceable}`
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

/**
 * Someone else changed or replaced a service this deploy changed, so what
 * Swarm rolls out now is not this deploy: the reason, or undefined.
 */
function superseded(service: Service, mine: DeployedService): string | undefined {
  if (service.ID !== mine.id) return 'removed and created again by someone else during the rollout'
  const key = specKeyOf(service.Spec)
  if (key === mine.specKey) return undefined
  // An autoscaler's (or a person's) replica count: the live count is judged instead.
  if (rescaledOnly(mine.spec, service.Spec)) return undefined
  // Swarm's own rollback (failure_action, `docker service rollback`) returns to the previous spec.
  if (key === mine.previousKey && service.UpdateStatus?.State?.startsWith('rollback_')) return undefined
  const changes = specChanges(mine.spec, service.Spec)
  return `changed by someone else during the rollout (${changes.length > 0 ? changes.join('; ') : 'spec changed'}): this deploy's spec no longer runs`
}

function judgeService(...args: Parameters<typeof judgeLive>): ServiceVerdict {
  const [service, , mine] = args
  const judged = judgeLive(...args)
  // Said in every message, so the log names who changed the count.
  const scaled = mine?.id === service.ID ? rescaledOnly(mine.spec, service.Spec) : undefined
  return scaled && judged.state !== 'superseded' ? { ...judged, message: `${judged.message}; ${scaled}, not by this deploy` } : judged
}

function judgeLive(
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
  } else if (mine && (mine.id !== service.ID || (mine.specKey !== specKeyOf(service.Spec) && !rescaledOnly(mine.spec, service.Spec)))) {
    // Not this deploy's change, so not this deploy's verdict either.
    const changes = specChanges(mine.spec, service.Spec)
    return {
      ...verdict,
      state: 'converged',
      message: `not changed by this deploy; changed since by someone else (${changes.join('; ') || 'replaced'}), not judged`
    }
  }
  const swarmSays = ownUpdate?.Message ? `: ${ownUpdate.Message}` : ''
  const currentIds = new Set(tasks.filter(t => runsCurrentSpec(t, service)).map(t => t.ID))
  const currentFailures = failures.filter(f => currentIds.has(f.taskId))
  // "no suitable node" can clear when a node joins or frees up; past the grace period it will not.
  // Unless a node is "unknown": a new leader (the last one's engine stopped) waits for the nodes
  // to report to it, and places nothing on them meanwhile; they turn ready, or down, soon.
  const awaitingNodes = [...nodes.values()].some(node => node.Status.State === 'unknown')
  const capacity = capacityWait(service, count, snapshot, clock)
  const unplaceable = count.unschedulable !== undefined && clock.sinceDeployMs >= (capacity?.timeoutMs ?? UNSCHEDULABLE_GRACE_MS) && !awaitingNodes
  const stuck = hopeless(
    mode,
    change,
    count,
    currentFailures,
    unplaceable ? (capacity ? `${count.unschedulable}: ${capacity.missing}` : count.unschedulable) : undefined
  )
  const updateState = ownUpdate?.State
  // Over-scaled on purpose: what fits runs the new spec, the rest waits for a node.
  // Waiting that long is not a failure here: only a failure of the tasks that run is.
  const bestEffort =
    capacity?.bestEffort === true &&
    count.runningSettled &&
    count.running + capacity.waiting >= count.desired &&
    !updateState?.startsWith('rollback') &&
    !hopeless(mode, change, count, currentFailures, undefined)
  if (capacity && bestEffort) {
    return {
      ...verdict,
      state: 'converged',
      waitingForCapacity: capacity.waiting,
      message: `${count.running}/${count.desired} running, ${capacity.waiting} waiting for capacity (${capacity.missing})`
    }
  }
  const waiting = (judged: ServiceVerdict): ServiceVerdict =>
    capacity && judged.state === 'pending'
      ? { ...judged, waitingForCapacity: capacity.waiting, message: `${judged.message}; waiting for capacity: ${capacity.missing}` }
      : judged
  return waiting(byUpdateState())
  function byUpdateState(): ServiceVerdict {
    switch (updateState) {
      case 'paused':
        return !clock.rollbackOnFailure
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
        if (count.done && (currentFailures.length === 0 || count.settled))
          return { ...verdict, state: 'converged', message: `update completed (${count.running}/${count.desired} running)` }
        if (stuck) return { ...verdict, state: 'failed', message: `update completed but ${stuck}` }
        if (count.done)
          return { ...verdict, message: `update completed after task failures; checking the tasks stay up (${count.running}/${count.desired} running)` }
        return { ...verdict, message: `update completed; waiting for tasks: ${count.running}/${count.desired} running` }
      case 'updating':
        // Swarm's failure_action handles failing tasks; a task no node can take stalls it for good.
        if (unplaceable) return { ...verdict, state: 'failed', message: `update stalled: ${stuck}` }
        return { ...verdict, message: `updating: ${count.running}/${count.desired} of the new spec running` }
      case undefined:
        break
      default:
        // A state of a newer engine: judged by its tasks, as with no update.
        unlisted(updateState)
    }
    const job = isJob(mode)
    const progress = `${count.running}/${count.desired} ${job ? 'complete' : 'running'}`
    if (stuck) return { ...verdict, state: 'failed', message: stuck }
    // A job whose spec did not change is not run again: nothing to wait for.
    if (job && change === 'unchanged') return { ...verdict, state: 'converged', message: 'unchanged job, not run again' }
    // A job's count is of tasks this deploy started (fresh), so once they completed its update did start.
    if (change === 'updated' && (!count.settled || (!job && clock.sinceDeployMs < NO_UPDATE_GRACE_MS))) {
      return { ...verdict, message: `spec changed; waiting for Swarm to start the update (${progress})` }
    }
    if (count.settled) return { ...verdict, state: 'converged', message: `${change}, ${progress}` }
    if (count.done) return { ...verdict, message: `${change === 'created' ? 'started' : 'converging'}: ${progress}; checking they stay up` }
    return { ...verdict, message: `${change === 'created' ? 'starting' : 'converging'}: ${progress}` }
  }
}

/**
 * Tasks of the current spec that no node can take, each only for lack of
 * CPU or memory: how many, what they miss, and how long they may wait. A
 * task refused for any other reason (constraints, platform, plugin) makes it
 * undefined: that fails fast, as before.
 */
function capacityWait(
  service: Service,
  count: TaskCount,
  snapshot: Snapshot,
  clock: JudgeClock
): { waiting: number; missing: string; timeoutMs: number; bestEffort: boolean } | undefined {
  const unplaced = count.unplaced
  if (unplaced.length === 0 || !unplaced.every(t => waitsForCapacity(t.Status.Err ?? ''))) return undefined
  return {
    waiting: unplaced.length,
    missing: shortfall(unplaced, snapshot.nodes, snapshot.reserved ?? reservationsOf(snapshot.tasks)),
    timeoutMs: clock.capacityTimeoutMs ?? UNSCHEDULABLE_GRACE_MS,
    bestEffort: isBestEffort(service) && modeOf(service) === 'replicated'
  }
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
  const names = (state: ServiceState): string =>
    services
      .filter(s => s.state === state)
      .map(s => s.name)
      .join(', ')
  switch (status) {
    case 'converged': {
      // Best-effort services (src/converge/capacity.ts) converge with tasks still waiting: said, not hidden.
      const short = services.filter(s => s.waitingForCapacity)
      const waiting = short.map(s => `${s.name}: ${s.running}/${s.desired} running, ${s.waitingForCapacity} waiting for capacity`)
      return `Stack ${stack} converged: ${services.length} service(s) running the deployed spec${waiting.length > 0 ? ` (${waiting.join('; ')})` : ''}.`
    }
    case 'failed':
      if (services.length === 0) return `Stack ${stack} failed: it has no services left to run this deploy's spec.`
      return `Stack ${stack} failed: ${services
        .filter(s => s.state === 'failed')
        .map(s => `${s.name} (${s.message})`)
        .join('; ')}.`
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
    case 'pending':
      return `Stack ${stack}: waiting for ${services
        .filter(s => s.state !== 'converged')
        .map(s => s.name)
        .join(', ')}.`
    default:
      return unreachable(status)
  }
}

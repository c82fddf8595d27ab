import { describe, expect, it } from '@jest/globals'
import type { Baseline, Deployed, JudgeClock } from '../../../src/converge/verdict.js'
import { judge as judgeWith, NO_UPDATE_GRACE_MS, UNSCHEDULABLE_GRACE_MS } from '../../../src/converge/judge.js'
import { baselineOf, DEFAULT_MONITOR_MS, deployedOf } from '../../../src/converge/spec.js'
import { seenRunning } from '../../../src/converge/tasks.js'
import type { Node, Service, Snapshot, Task } from '../../../src/swarm/model.js'

const STACK = 'web'
const LABELS = { 'com.docker.stack.namespace': STACK }
const nodes: Node[] = [
  { ID: 'n1', Description: { Hostname: 'mgr' }, Status: { State: 'ready' } },
  { ID: 'n2', Description: { Hostname: 'wrk' }, Status: { State: 'ready' } }
]

function service(image: string, extra: Partial<Service> = {}): Service {
  return {
    ID: 's1',
    Version: { Index: 10 },
    Spec: { Name: 'web_app', Labels: LABELS, TaskTemplate: { ContainerSpec: { Image: image } }, Mode: { Replicated: { Replicas: 2 } } },
    ...extra
  }
}

function task(id: string, image: string, state: Task['Status']['State'], extra: Partial<Task> = {}, status: Partial<Task['Status']> = {}): Task {
  return {
    ID: id,
    ServiceID: 's1',
    Slot: Number(id.replace(/\D/g, '')) || 1,
    NodeID: Number(id.replace(/\D/g, '')) % 2 ? 'n1' : 'n2',
    Spec: { ContainerSpec: { Image: image } },
    DesiredState: 'running',
    Status: { State: state, ...status },
    ...extra
  }
}

const snap = (services: Service[], tasks: Task[]): Snapshot => ({ services, tasks, nodes })
/** The judge on a snapshot whose specs are those the deploy left, unless the test says what it left. */
const judge = (baseline: Baseline, snapshot: Snapshot, stack: string, clock: JudgeClock, deployed: Deployed = deployedOf(baseline, snapshot, stack)) =>
  judgeWith(baseline, snapshot, stack, clock, deployed)
// Every running task was first seen running when the deploy returned, so at
// `clock` it has stayed up for the default monitor period.
const runningSince = { get: (): number => 0 }
const clock = { sinceDeployMs: DEFAULT_MONITOR_MS, deadlineReached: false, rollbackOnFailure: true, runningSince }
const late = { sinceDeployMs: NO_UPDATE_GRACE_MS + 1, deadlineReached: false, rollbackOnFailure: true, runningSince }

describe('judge: a new service', () => {
  const baseline = baselineOf(snap([], []), STACK)

  it('is pending until every task of the spec runs, then converged', () => {
    const starting = judge(baseline, snap([service('app:1')], [task('t1', 'app:1', 'running'), task('t2', 'app:1', 'starting')]), STACK, clock)
    expect(starting.status).toBe('pending')
    expect(starting.services[0]).toMatchObject({ change: 'created', running: 1, desired: 2, state: 'pending' })

    const up = judge(baseline, snap([service('app:1')], [task('t1', 'app:1', 'running'), task('t2', 'app:1', 'running')]), STACK, clock)
    expect(up.status).toBe('converged')
    expect(up.services[0]).toMatchObject({ state: 'converged', running: 2, desired: 2, nodes: ['mgr', 'wrk'] })
  })

  it('sums up a pending stack by the services not converged yet', () => {
    const starting = judge(baseline, snap([service('app:1')], [task('t1', 'app:1', 'running'), task('t2', 'app:1', 'starting')]), STACK, clock)
    expect(starting.summary).toBe('Stack web: waiting for web_app.')
  })

  it('times out with the scheduler reason when no node fits', () => {
    const pending = task('t1', 'app:1', 'pending', {}, { Err: 'no suitable node (scheduling constraints not satisfied on 2 nodes)' })
    delete pending.NodeID
    const s = service('app:1', { Spec: { ...service('app:1').Spec, Mode: { Replicated: { Replicas: 1 } } } })
    const waiting = judge(baseline, snap([s], [pending]), STACK, clock)
    expect(waiting.status).toBe('pending')
    const verdict = judge(baseline, snap([s], [pending]), STACK, { ...clock, deadlineReached: true })
    expect(verdict.status).toBe('timed-out')
    expect(verdict.services[0]!.pending).toEqual(['1 task pending: no suitable node (scheduling constraints not satisfied on 2 nodes)'])
    expect(verdict.summary).toMatch(/^Stack web timed out with 1 service\(s\) not converged: web_app .*no suitable node/)
  })

  it('fails fast once no node could take a task for the grace period', () => {
    const pending = task('t1', 'app:1', 'pending', {}, { Err: 'no suitable node (scheduling constraints not satisfied on 2 nodes)' })
    const verdict = judge(baseline, snap([service('app:1')], [pending]), STACK, { ...clock, sinceDeployMs: UNSCHEDULABLE_GRACE_MS })
    expect(verdict.status).toBe('failed')
    expect(verdict.services[0]!.message).toBe('no node can run it: no suitable node (scheduling constraints not satisfied on 2 nodes)')
  })

  it('waits past the grace period while a node is unknown: a new leader places nothing until the nodes report to it', () => {
    // As on lab/cluster.sh right after the leader's engine stopped: the worker, the only node allowed, is "unknown" to the new leader.
    const pending = task(
      't1',
      'app:1',
      'pending',
      {},
      { Err: 'no suitable node (2 nodes not available for new tasks; scheduling constraints not satisfied on 2 nodes)' }
    )
    const unknown = nodes.map(n => (n.Description?.Hostname === 'wrk' ? { ...n, Status: { ...n.Status, State: 'unknown' as const } } : n))
    const waiting = judge(baseline, { services: [service('app:1')], tasks: [pending], nodes: unknown }, STACK, {
      ...clock,
      sinceDeployMs: UNSCHEDULABLE_GRACE_MS
    })
    expect(waiting.status).toBe('pending')
    const ready = judge(baseline, snap([service('app:1')], [pending]), STACK, { ...clock, sinceDeployMs: UNSCHEDULABLE_GRACE_MS })
    expect(ready.status).toBe('failed')
  })

  it('fails fast on an image that cannot be pulled', () => {
    const rejected = task('t1', 'app:1', 'rejected', { DesiredState: 'shutdown' }, { Err: 'No such image: 10.77.0.1:5000/app:1@sha256:abc' })
    const verdict = judge(baseline, snap([service('app:1')], [rejected, task('t2', 'app:1', 'pending')]), STACK, clock)
    expect(verdict.status).toBe('failed')
    expect(verdict.services[0]!.message).toMatch(/^the image cannot be pulled on mgr: No such image/)
  })

  it('fails a new service that keeps crashing, saying there is nothing to roll back to', () => {
    const crash = (id: string) =>
      task(id, 'app:1', 'failed', { DesiredState: 'shutdown' }, { Err: 'task: non-zero exit (1)', ContainerStatus: { ExitCode: 1 } })
    const once = judge(baseline, snap([service('app:1')], [crash('t1'), task('t2', 'app:1', 'starting')]), STACK, clock)
    expect(once.status).toBe('pending')
    const twice = judge(baseline, snap([service('app:1')], [crash('t1'), crash('t2'), task('t3', 'app:1', 'starting')]), STACK, clock)
    expect(twice.status).toBe('failed')
    expect(twice.services[0]!.message).toBe('the new service fails to start and has no previous version to roll back to: task: non-zero exit (1)')
  })

  // Seen in CI: a container that exits at once showed `running` on both tasks
  // in one snapshot, and the action reported converged.
  it('converges only once the tasks this deploy started have stayed up for the monitor period', () => {
    const s = service('app:1')
    const upAt = (ms: number, tasks: Task[], since: Map<string, number>) => {
      const snapshot = snap([s], tasks)
      const seen = seenRunning(since, snapshot, ms)
      return { seen, verdict: judge(baseline, snapshot, STACK, { sinceDeployMs: ms, deadlineReached: false, rollbackOnFailure: true, runningSince: seen }) }
    }
    const both = [task('t1', 'app:1', 'running'), task('t2', 'app:1', 'running')]
    const first = upAt(1_000, both, new Map())
    expect(first.verdict.status).toBe('pending')
    expect(first.verdict.services[0]).toMatchObject({ running: 2, desired: 2, message: 'started: 2/2 running; checking they stay up' })
    expect(first.verdict.services[0]!.pending).toEqual(['2 tasks running for less than the 5 s monitor period'])

    // One of them crashed and was replaced: the replacement is timed from when it was seen running.
    const crashed = task('t2', 'app:1', 'failed', { DesiredState: 'shutdown' }, { Err: 'task: non-zero exit (3)' })
    const second = upAt(3_000, [both[0]!, crashed, task('t3', 'app:1', 'running')], first.seen)
    expect(second.verdict.status).toBe('pending')
    const third = upAt(1_000 + DEFAULT_MONITOR_MS, [both[0]!, crashed, task('t3', 'app:1', 'running')], second.seen)
    expect(third.verdict.status).toBe('pending')
    expect(third.verdict.services[0]!.pending).toEqual(['1 task running for less than the 5 s monitor period'])
    const fourth = upAt(3_000 + DEFAULT_MONITOR_MS, [both[0]!, crashed, task('t3', 'app:1', 'running')], third.seen)
    expect(fourth.verdict.status).toBe('converged')

    // The service's own monitor period sets the window.
    const slow = service('app:1', { Spec: { ...s.Spec, UpdateConfig: { Monitor: 30e9 } } })
    const seen = seenRunning(new Map(), snap([slow], both), 0)
    const at = (ms: number) =>
      judge(baseline, snap([slow], both), STACK, { sinceDeployMs: ms, deadlineReached: false, rollbackOnFailure: true, runningSince: seen }).status
    expect([at(29_000), at(30_000)]).toEqual(['pending', 'converged'])
  })

  it('fails a new service whose tasks crash in turn, so that one always shows running', () => {
    const crash = (id: string) => task(id, 'app:1', 'failed', { DesiredState: 'shutdown' }, { Err: 'task: non-zero exit (3)' })
    const s = service('app:1')
    const judgeAt = (tasks: Task[]) =>
      judge(baseline, snap([s], tasks), STACK, { sinceDeployMs: 9_000, deadlineReached: false, rollbackOnFailure: true, runningSince: { get: () => 8_000 } })
    // Three failures with a task running: it may yet stay up.
    expect(judgeAt([crash('t1'), crash('t2'), crash('t3'), task('t4', 'app:1', 'running')]).status).toBe('pending')
    // Each slot failed twice and nothing has stayed up: it will not recover by itself.
    const verdict = judgeAt([crash('t1'), crash('t2'), crash('t3'), crash('t5'), task('t4', 'app:1', 'running')])
    expect(verdict.status).toBe('failed')
    expect(verdict.services[0]!.message).toBe('the new service fails to start and has no previous version to roll back to: task: non-zero exit (3)')
  })

  it('does not time tasks that ran before this deploy', () => {
    const tasks = [task('t1', 'app:1', 'running'), task('t2', 'app:1', 'running')]
    const s = service('app:1')
    const verdict = judge(baselineOf(snap([s], tasks), STACK), snap([s], tasks), STACK, {
      sinceDeployMs: 0,
      deadlineReached: false,
      rollbackOnFailure: true,
      runningSince: new Map()
    })
    expect(verdict.status).toBe('converged')
  })

  it('ignores tasks on a node that is down', () => {
    const down = { ...snap([service('app:1')], [task('t1', 'app:1', 'running'), task('t2', 'app:1', 'running'), task('t3', 'app:1', 'running')]) }
    down.nodes = [nodes[0]!, { ...nodes[1]!, Status: { State: 'down' } }]
    // t2 sits on the down node; t1 and t3 run on the live one.
    const verdict = judge(baseline, down, STACK, clock)
    expect(verdict.status).toBe('converged')
    expect(verdict.services[0]).toMatchObject({ running: 2, desired: 2, nodes: ['mgr'] })
  })
})

describe('judge: an update', () => {
  const old = service('app:1', { UpdateStatus: { State: 'completed', StartedAt: '2026-01-01T00:00:00Z', CompletedAt: '2026-01-01T00:00:10Z' } })
  const oldTasks = [task('t1', 'app:1', 'running'), task('t2', 'app:1', 'running')]
  const baseline = baselineOf(snap([old], oldTasks), STACK)
  const updated = (status?: Service['UpdateStatus']): Service => ({ ...service('app:2'), UpdateStatus: status ?? old.UpdateStatus })

  it('never trusts the completed status left by the previous deploy', () => {
    const verdict = judge(baseline, snap([updated()], oldTasks), STACK, clock)
    expect(verdict.status).toBe('pending')
    expect(verdict.services[0]!.message).toMatch(/waiting for Swarm to start the update/)
    expect(verdict.services[0]!.updateState).toBeUndefined()
  })

  it('is converged only when this update completes', () => {
    const newTasks = [task('t3', 'app:2', 'running'), task('t4', 'app:2', 'running')]
    const updating = judge(baseline, snap([updated({ State: 'updating', StartedAt: '2026-02-01T00:00:00Z' })], [...oldTasks, newTasks[0]!]), STACK, clock)
    expect(updating.status).toBe('pending')
    expect(updating.services[0]!.updateState).toBe('updating')
    const done = judge(baseline, snap([updated({ State: 'completed', StartedAt: '2026-02-01T00:00:00Z' })], newTasks), STACK, clock)
    expect(done.status).toBe('converged')
    expect(done.services[0]).toMatchObject({ change: 'updated', state: 'converged', updateState: 'completed' })
  })

  it('judges by the tasks an update state it does not know (a newer engine)', () => {
    const newTasks = [task('t3', 'app:2', 'running'), task('t4', 'app:2', 'running')]
    const state = 'some_new_state' as NonNullable<Service['UpdateStatus']>['State']
    const verdict = judge(baseline, snap([updated({ State: state, StartedAt: '2026-02-01T00:00:00Z' })], newTasks), STACK, late)
    expect(verdict.status).toBe('converged')
    expect(verdict.services[0]).toMatchObject({ state: 'converged', message: 'updated, 2/2 running' })
  })

  it('does not take a completed update whose tasks are not running as converged', () => {
    const crashing = [task('t3', 'app:2', 'running'), task('t4', 'app:2', 'starting')]
    const verdict = judge(baseline, snap([updated({ State: 'completed', StartedAt: '2026-02-01T00:00:00Z' })], crashing), STACK, clock)
    expect(verdict.status).toBe('pending')
    expect(verdict.services[0]!.message).toBe('update completed; waiting for tasks: 1/2 running')
  })

  // failure_action: continue completes an update whose new tasks crash; a
  // replacement showing running for a moment is no proof.
  it('after new tasks failed, takes a completed update as converged only once the tasks stay up', () => {
    const completed = updated({ State: 'completed', StartedAt: '2026-02-01T00:00:00Z' })
    const crashed = task('t3', 'app:2', 'failed', { DesiredState: 'shutdown' }, { Err: 'task: non-zero exit (3)' })
    const tasks = [crashed, task('t4', 'app:2', 'running'), task('t5', 'app:2', 'running')]
    const seen = seenRunning(new Map(), snap([completed], tasks), 1_000)
    const at = (ms: number) =>
      judge(baseline, snap([completed], tasks), STACK, { sinceDeployMs: ms, deadlineReached: false, rollbackOnFailure: true, runningSince: seen })
    expect(at(2_000).status).toBe('pending')
    expect(at(2_000).services[0]!.message).toBe('update completed after task failures; checking the tasks stay up (2/2 running)')
    expect(at(1_000 + DEFAULT_MONITOR_MS).status).toBe('converged')
  })

  // Seen in CI: the worker lost during a start-first update; Swarm had
  // replaced its tasks and then started the next batch in those slots too,
  // leaving two running tasks of the new spec in two slots.
  it('counts slots, not tasks: a slot Swarm left with two running tasks does not block', () => {
    const completed = updated({ State: 'completed', StartedAt: '2026-02-01T00:00:00Z' })
    const inSlot = (id: string, slot: number, state: Task['Status']['State'] = 'running') => task(id, 'app:2', state, { Slot: slot, NodeID: 'n1' })
    const four = (s: Service) => ({ ...s, Spec: { ...s.Spec, Mode: { Replicated: { Replicas: 4 } } } })
    const doubled = [inSlot('t11', 1), inSlot('t12', 2), inSlot('t13', 3), inSlot('t14', 4), inSlot('t15', 3), inSlot('t16', 4)]
    const verdict = judge(baseline, snap([four(completed)], doubled), STACK, clock)
    expect(verdict.status).toBe('converged')
    expect(verdict.services[0]).toMatchObject({ running: 4, desired: 4 })
    // Every task running is not enough when a slot has none.
    const gap = [inSlot('t11', 1), inSlot('t12', 2), inSlot('t13', 3), inSlot('t15', 3), inSlot('t14', 4, 'starting')]
    expect(judge(baseline, snap([four(completed)], gap), STACK, clock).status).toBe('pending')
  })

  it('ignores history tasks stuck in pending when judging schedulability', () => {
    const history = task('t9', 'app:2', 'pending', { DesiredState: 'shutdown' }, { Err: 'no suitable node (scheduling constraints not satisfied on 2 nodes)' })
    const updating = judge(baseline, snap([updated({ State: 'updating', StartedAt: '2026-02-01T00:00:00Z' })], [...oldTasks, history]), STACK, {
      ...clock,
      sinceDeployMs: 60_000
    })
    expect(updating.status).toBe('pending')
  })

  it('waits through a rollback and reports rolled-back with the failed task', () => {
    const failed = task(
      't3',
      'app:2',
      'failed',
      { DesiredState: 'shutdown' },
      { Err: 'task: non-zero exit (137): dockerexec: unhealthy container', ContainerStatus: { ExitCode: 137 } }
    )
    const rollingBack = judge(
      baseline,
      snap(
        [
          updated({
            State: 'rollback_started',
            StartedAt: '2026-02-01T00:00:00Z',
            Message: 'update rolled back due to failure or early termination of task t3'
          })
        ],
        [...oldTasks, failed]
      ),
      STACK,
      clock
    )
    expect(rollingBack.status).toBe('pending')
    expect(rollingBack.services[0]!.state).toBe('rolling-back')

    const back = { ...old, UpdateStatus: { State: 'rollback_completed' as const, StartedAt: '2026-02-01T00:00:00Z', Message: 'rollback completed' } }
    const verdict = judge(baseline, snap([back], [...oldTasks, failed]), STACK, clock)
    expect(verdict.status).toBe('rolled-back')
    expect(verdict.services[0]!.failures).toEqual([
      expect.objectContaining({ taskId: 't3', node: 'mgr', exitCode: 137, error: 'task: non-zero exit (137): dockerexec: unhealthy container' })
    ])
    expect(verdict.summary).toMatch(/rolled back by Swarm/)
  })

  it('asks for a rollback of a paused update, or fails at once when told not to', () => {
    const pausedSnap = snap([updated({ State: 'paused', StartedAt: '2026-02-01T00:00:00Z', Message: 'update paused due to failure' })], oldTasks)
    const asking = judge(baseline, pausedSnap, STACK, clock)
    expect(asking.status).toBe('pending')
    expect(asking.services[0]).toMatchObject({
      state: 'rolling-back',
      rollbackWanted: true,
      message: 'update paused by Swarm: update paused due to failure; asking it to roll back'
    })
    const paused = judge(baseline, pausedSnap, STACK, { ...clock, rollbackOnFailure: false })
    expect(paused.status).toBe('failed')
    expect(paused.services[0]!.message).toBe('update paused by Swarm: update paused due to failure; left paused (rollback-on-failure: false)')
    const stuck = judge(baseline, snap([updated({ State: 'rollback_paused', StartedAt: '2026-02-01T00:00:00Z' })], oldTasks), STACK, clock)
    expect(stuck.status).toBe('failed')
    expect(stuck.services[0]!.message).toMatch(/rollback itself failed.*manual action needed/)
  })

  it('accepts a spec change Swarm rolls out without an update once its tasks run', () => {
    const newTasks = [task('t3', 'app:2', 'running'), task('t4', 'app:2', 'running')]
    expect(judge(baseline, snap([updated()], newTasks), STACK, clock).status).toBe('pending')
    expect(judge(baseline, snap([updated()], newTasks), STACK, late).status).toBe('converged')
  })
})

describe('judge: an unchanged service', () => {
  const s = service('app:1', { UpdateStatus: { State: 'rollback_completed', StartedAt: '2026-01-01T00:00:00Z' } })
  const tasks = [task('t1', 'app:1', 'running'), task('t2', 'app:1', 'running')]
  it('does not read the old rollback as this deploy’s and converges at once', () => {
    const verdict = judge(baselineOf(snap([s], tasks), STACK), snap([s], tasks), STACK, clock)
    expect(verdict.status).toBe('converged')
    expect(verdict.services[0]).toMatchObject({ change: 'unchanged', updateState: undefined })
  })
})

describe('judge: other stacks and modes', () => {
  it('ignores services of other stacks', () => {
    const other = { ...service('x:1'), ID: 's9', Spec: { ...service('x:1').Spec, Name: 'other_x', Labels: { 'com.docker.stack.namespace': 'other' } } }
    expect(judge(baselineOf(snap([], []), STACK), snap([other], []), STACK, clock).services).toEqual([])
  })

  it('owes a global service a task on each node its constraints admit, before any task exists', () => {
    const onWorkers = (extra: Partial<Service['Spec']> = {}): Service =>
      service('agent:1', {
        Spec: {
          ...service('agent:1').Spec,
          Mode: { Global: {} },
          TaskTemplate: { ContainerSpec: { Image: 'agent:1' }, Placement: { Constraints: ['node.role==worker'] } },
          ...extra
        }
      })
    const workers: Node[] = [
      { ...nodes[0]!, Spec: { Role: 'manager' } },
      { ...nodes[1]!, Spec: { Role: 'worker' } }
    ]
    const baseline = baselineOf(snap([], []), STACK)
    const none = judge(baseline, { services: [onWorkers()], tasks: [], nodes: workers }, STACK, clock)
    expect(none.status).toBe('pending')
    expect(none.services[0]).toMatchObject({ desired: 1, running: 0, state: 'pending' })
    const up = judge(baseline, { services: [onWorkers()], tasks: [task('t2', 'agent:1', 'running')], nodes: workers }, STACK, clock)
    expect(up.services[0]).toMatchObject({ desired: 1, running: 1, state: 'converged', nodes: ['wrk'] })
  })

  it('counts a global service per node and a job by completions', () => {
    const global = service('agent:1', { Spec: { ...service('agent:1').Spec, Mode: { Global: {} } } })
    const verdict = judge(baselineOf(snap([], []), STACK), snap([global], [task('t1', 'agent:1', 'running'), task('t2', 'agent:1', 'running')]), STACK, clock)
    expect(verdict.services[0]).toMatchObject({ mode: 'global', desired: 2, running: 2, state: 'converged' })

    const job = service('migrate:1', { Spec: { ...service('migrate:1').Spec, Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } } } })
    const running = judge(baselineOf(snap([], []), STACK), snap([job], [task('t1', 'migrate:1', 'running', { DesiredState: 'complete' })]), STACK, clock)
    expect(running.status).toBe('pending')
    const complete = judge(baselineOf(snap([], []), STACK), snap([job], [task('t1', 'migrate:1', 'complete', { DesiredState: 'complete' })]), STACK, clock)
    expect(complete.services[0]).toMatchObject({ mode: 'replicated-job', state: 'converged', running: 1, desired: 1 })

    const globalJob = service('prune:1', { Spec: { ...service('prune:1').Spec, Mode: { GlobalJob: {} } } })
    const done = (id: string, state: 'complete' | 'running') => task(id, 'prune:1', state, { DesiredState: 'complete' })
    expect(judge(baselineOf(snap([], []), STACK), snap([globalJob], [done('t1', 'complete'), done('t2', 'running')]), STACK, clock).status).toBe('pending')
    expect(judge(baselineOf(snap([], []), STACK), snap([globalJob], [done('t1', 'complete'), done('t2', 'complete')]), STACK, clock).services[0]).toMatchObject(
      {
        mode: 'global-job',
        state: 'converged',
        running: 2,
        desired: 2,
        nodes: ['mgr', 'wrk']
      }
    )

    // A job whose spec did not change is not run again: converged, not waiting forever.
    const ran = [done('t1', 'complete')]
    expect(judge(baselineOf(snap([job], ran), STACK), snap([job], ran), STACK, clock).services[0]).toMatchObject({
      state: 'converged',
      message: 'unchanged job, not run again'
    })
  })

  it('takes an updated job by its own completed run at once: no grace for an update that might not start', () => {
    const job = (image: string) => service(image, { Spec: { ...service(image).Spec, Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } } } })
    const before = snap([job('migrate:1')], [task('t1', 'migrate:1', 'complete', { DesiredState: 'complete' })])
    const after = (state: 'complete' | 'running') =>
      snap(
        [job('migrate:2')],
        [task('t1', 'migrate:1', 'complete', { DesiredState: 'complete' }), task('t2', 'migrate:2', state, { DesiredState: 'complete' })]
      )
    // Before NO_UPDATE_GRACE_MS: this deploy's task completed, so its run is over.
    expect(judge(baselineOf(before, STACK), after('complete'), STACK, clock).services[0]).toMatchObject({ change: 'updated', state: 'converged' })
    expect(judge(baselineOf(before, STACK), after('running'), STACK, clock).status).toBe('pending')
  })
})

describe('judge: someone else changes the stack during the rollout', () => {
  const old = service('app:1', { UpdateStatus: { State: 'completed', StartedAt: '2026-01-01T00:00:00Z' } })
  const oldTasks = [task('t1', 'app:1', 'running'), task('t2', 'app:1', 'running')]
  const baseline = baselineOf(snap([old], oldTasks), STACK)
  const ours = { ...service('app:2'), PreviousSpec: old.Spec, UpdateStatus: { State: 'updating' as const, StartedAt: '2026-02-01T00:00:00Z' } }
  const deployed = deployedOf(baseline, snap([ours], oldTasks), STACK)
  const theirs = (image: string, env: string[], state: 'updating' | 'completed'): Service => ({
    ...ours,
    Spec: { ...ours.Spec, TaskTemplate: { ContainerSpec: { Image: image, Env: env } } },
    PreviousSpec: ours.Spec,
    UpdateStatus: { State: state, StartedAt: '2026-02-01T00:00:09Z' }
  })

  it('records what the deploy changed', () => {
    expect(deployed['web_app']).toMatchObject({ id: 's1', change: 'updated' })
    expect(deployedOf(baseline, snap([old], oldTasks), STACK)['web_app']!.change).toBe('unchanged')
  })

  it('is superseded, naming the image and variables, when another spec completed in place of this one', () => {
    const done = [task('t5', 'app:1', 'running'), task('t6', 'app:1', 'running')]
    const verdict = judge(baseline, snap([theirs('app:1', ['FOREIGN=1'], 'completed')], done), STACK, clock, deployed)
    expect(verdict.status).toBe('superseded')
    expect(verdict.services[0]).toMatchObject({ state: 'superseded', change: 'updated' })
    expect(verdict.services[0]!.message).toBe(
      "changed by someone else during the rollout (image app:2 → app:1; environment FOREIGN added): this deploy's spec no longer runs"
    )
    expect(verdict.summary).toMatch(/^Stack web was superseded: web_app \(changed by someone else/)
  })

  it('stops waiting at once, while the other update is still under way', () => {
    const verdict = judge(baseline, snap([theirs('app:1', ['FOREIGN=1'], 'updating')], oldTasks), STACK, clock, deployed)
    expect(verdict.status).toBe('superseded')
  })

  it('is rolled-back, never superseded, when Swarm rolls back to the previous spec', () => {
    const back = { ...old, UpdateStatus: { State: 'rollback_completed' as const, StartedAt: '2026-02-01T00:00:20Z' } }
    const verdict = judge(baseline, snap([back], oldTasks), STACK, clock, deployed)
    expect(verdict.status).toBe('rolled-back')
    // The previous spec put back by an update, not a rollback, is someone else's change.
    const reverted = { ...old, UpdateStatus: { State: 'completed' as const, StartedAt: '2026-02-01T00:00:20Z' } }
    expect(judge(baseline, snap([reverted], oldTasks), STACK, clock, deployed).status).toBe('superseded')
  })

  it('is superseded when a service it deployed is removed, or removed and created again', () => {
    const gone = judge(baseline, snap([], []), STACK, clock, deployed)
    expect(gone.status).toBe('superseded')
    expect(gone.services).toEqual([
      expect.objectContaining({ name: 'web_app', state: 'superseded', message: 'removed by someone else during the rollout', running: 0 })
    ])
    const recreated = { ...ours, ID: 's9' }
    const again = judge(baseline, snap([recreated], []), STACK, clock, deployed)
    expect(again.services[0]).toMatchObject({ state: 'superseded', message: 'removed and created again by someone else during the rollout' })
  })

  it('does not judge a service this deploy did not change on what others do to it', () => {
    const unchanged = deployedOf(baseline, snap([old], oldTasks), STACK)
    const meddled = {
      ...old,
      Spec: { ...old.Spec, TaskTemplate: { ContainerSpec: { Image: 'app:3' } } },
      UpdateStatus: { State: 'updating' as const, StartedAt: '2026-02-01T00:00:09Z' }
    }
    const verdict = judge(baseline, snap([meddled], oldTasks), STACK, clock, unchanged)
    expect(verdict.status).toBe('converged')
    expect(verdict.services[0]!.message).toBe('not changed by this deploy; changed since by someone else (image app:1 → app:3), not judged')
  })

  it('never calls a stack with no service left converged', () => {
    const verdict = judge(baseline, snap([], []), STACK, clock, deployedOf(baseline, snap([old], oldTasks), STACK))
    expect(verdict.status).toBe('failed')
    expect(verdict.summary).toBe("Stack web failed: it has no services left to run this deploy's spec.")
  })
})

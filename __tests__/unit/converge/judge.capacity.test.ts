import { describe, expect, it } from '@jest/globals'
import { judge, UNSCHEDULABLE_GRACE_MS } from '../../../src/converge/judge.js'
import { baselineOf, deployedOf, DEFAULT_MONITOR_MS } from '../../../src/converge/spec.js'
import type { JudgeClock } from '../../../src/converge/verdict.js'
import type { Node, Service, Snapshot, Task } from '../../../src/swarm/model.js'

// Two nodes of 2 CPUs, as the lab's; each task reserves 1.5 CPUs, so one fits per node.
const STACK = 'cap'
const CPU = 1e9
const nodes: Node[] = ['mgr', 'wrk'].map(name => ({
  ID: name,
  Description: { Hostname: name, Resources: { NanoCPUs: 2 * CPU, MemoryBytes: 8 * 2 ** 30 } },
  Status: { State: 'ready' }
}))
// Swarm's words (recorded: __tests__/fixtures/capacity/pending.json).
const NO_ROOM = 'no suitable node (insufficient resources on 2 nodes)'
const NO_MATCH = 'no suitable node (scheduling constraints not satisfied on 2 nodes)'

function service(replicas: number, labels: Record<string, string> = {}, image = 'app:1'): Service {
  return {
    ID: 's1',
    Version: { Index: 10 },
    Spec: {
      Name: 'cap_web',
      Labels: { 'com.docker.stack.namespace': STACK, ...labels },
      TaskTemplate: { ContainerSpec: { Image: image }, Resources: { Reservations: { NanoCPUs: 1.5 * CPU } } },
      Mode: { Replicated: { Replicas: replicas } }
    }
  }
}

function task(slot: number, state: 'running' | 'pending', err?: string, image = 'app:1'): Task {
  return {
    ID: `t${slot}`,
    ServiceID: 's1',
    Slot: slot,
    ...(state === 'running' ? { NodeID: nodes[slot % 2]!.ID } : {}),
    Spec: { ContainerSpec: { Image: image }, Resources: { Reservations: { NanoCPUs: 1.5 * CPU } } },
    DesiredState: 'running',
    Status: { State: state, ...(err ? { Err: err } : {}) }
  }
}

const snap = (services: Service[], tasks: Task[]): Snapshot => ({ services, tasks, nodes })
const runningSince = { get: (): number => 0 }
const at = (ms: number, extra: Partial<JudgeClock> = {}): JudgeClock => ({
  sinceDeployMs: ms,
  deadlineReached: false,
  rollbackOnFailure: true,
  runningSince,
  ...extra
})
const created = baselineOf(snap([], []), STACK)
const judged = (s: Snapshot, clock: JudgeClock) => judge(created, s, STACK, clock, deployedOf(created, s, STACK))
const twoOfThree = (err = NO_ROOM, labels: Record<string, string> = {}): Snapshot =>
  snap([service(3, labels)], [task(1, 'running'), task(2, 'running'), task(3, 'pending', err)])

describe('judge: tasks waiting for capacity', () => {
  it('waits, saying what is missing', () => {
    const verdict = judged(twoOfThree(), at(DEFAULT_MONITOR_MS))
    expect(verdict.status).toBe('pending')
    expect(verdict.services[0]!.message).toBe('starting: 2/3 running; waiting for capacity: 1 task needs 1.5 CPUs; the most free on any node is 0.5 CPUs')
    expect(verdict.services[0]!.waitingForCapacity).toBe(1)
  })

  it('fails after capacity-timeout, naming insufficient resources', () => {
    expect(judged(twoOfThree(), at(UNSCHEDULABLE_GRACE_MS)).status).toBe('failed')
    const minutes = { capacityTimeoutMs: 180_000 }
    expect(judged(twoOfThree(), at(UNSCHEDULABLE_GRACE_MS, minutes)).status).toBe('pending')
    expect(judged(twoOfThree(), at(179_999, minutes)).status).toBe('pending')
    const failed = judged(twoOfThree(), at(180_000, minutes))
    expect(failed.status).toBe('failed')
    expect(failed.services[0]!.message).toBe(`no node can run it: ${NO_ROOM}: 1 task needs 1.5 CPUs; the most free on any node is 0.5 CPUs`)
  })

  it('still fails fast on a constraint no node meets, whatever capacity-timeout says', () => {
    const verdict = judged(twoOfThree(NO_MATCH), at(UNSCHEDULABLE_GRACE_MS, { capacityTimeoutMs: 180_000 }))
    expect(verdict.status).toBe('failed')
    expect(verdict.services[0]!.message).toBe(`no node can run it: ${NO_MATCH}`)
  })

  it('counts what other stacks reserve when the watcher read it', () => {
    const busy = { ...twoOfThree(), reserved: { mgr: { NanoCPUs: 1.9 * CPU }, wrk: { NanoCPUs: 1.8 * CPU } } }
    expect(judged(busy, at(DEFAULT_MONITOR_MS)).services[0]!.message).toMatch(/the most free on any node is 0.2 CPUs$/)
  })

  it('becomes a task that runs once a node with room joins', () => {
    const joined = snap([service(3)], [task(1, 'running'), task(2, 'running'), { ...task(3, 'running'), NodeID: 'n3' }])
    expect(judged(joined, at(60_000, { capacityTimeoutMs: 180_000 })).status).toBe('converged')
  })
})

describe('judge: io.swarm-deploy.capacity: best-effort', () => {
  const bestEffort = { 'io.swarm-deploy.capacity': 'best-effort' }

  it('converges when every task that fits runs and the rest wait only for capacity', () => {
    const verdict = judged(twoOfThree(NO_ROOM, bestEffort), at(DEFAULT_MONITOR_MS))
    expect(verdict.status).toBe('converged')
    expect(verdict.services[0]).toMatchObject({ state: 'converged', running: 2, desired: 3, waitingForCapacity: 1 })
    expect(verdict.services[0]!.message).toBe('2/3 running, 1 waiting for capacity (1 task needs 1.5 CPUs; the most free on any node is 0.5 CPUs)')
    expect(verdict.summary).toBe('Stack cap converged: 1 service(s) running the deployed spec (cap_web: 2/3 running, 1 waiting for capacity).')
  })

  it('waits for the tasks that run to stay up for the monitor period', () => {
    expect(judged(twoOfThree(NO_ROOM, bestEffort), at(DEFAULT_MONITOR_MS - 1)).status).toBe('pending')
  })

  it('does not cover a task no node can take for another reason', () => {
    expect(judged(twoOfThree(NO_MATCH, bestEffort), at(UNSCHEDULABLE_GRACE_MS)).status).toBe('failed')
  })

  it('waits while tasks of the previous spec still run', () => {
    const s = snap([service(3, bestEffort, 'app:2')], [task(1, 'running', undefined, 'app:2'), task(2, 'running'), task(3, 'pending', NO_ROOM, 'app:2')])
    expect(judged(s, at(DEFAULT_MONITOR_MS)).status).toBe('pending')
  })
})

describe('judge: a replica count changed by someone else during the rollout', () => {
  // Deployed with 2 replicas of app:2 over app:1; then `docker service scale cap_web=4`.
  const before = snap([service(2)], [task(1, 'running'), task(2, 'running')])
  const baseline = baselineOf(before, STACK)
  const deployed = deployedOf(baseline, snap([service(2, {}, 'app:2')], []), STACK)
  const scaled = (replicas: number, image: string, running: number): Snapshot =>
    snap(
      [{ ...service(replicas, {}, image), UpdateStatus: { State: 'completed', StartedAt: '2026-12-07T12:00:00Z' } }],
      Array.from({ length: running }, (_, i) => ({
        ...task(i + 1, 'running', undefined, 'app:2'),
        ID: `n${i + 1}`,
        Spec: { ContainerSpec: { Image: 'app:2' } }
      }))
    )

  it('is judged on the live count, and the message names the change', () => {
    const waiting = judge(baseline, scaled(4, 'app:2', 2), STACK, at(DEFAULT_MONITOR_MS), deployed)
    expect(waiting.status).toBe('pending')
    const verdict = judge(baseline, scaled(4, 'app:2', 4), STACK, at(DEFAULT_MONITOR_MS), deployed)
    expect(verdict.status).toBe('converged')
    expect(verdict.services[0]!.message).toBe('update completed (4/4 running); replicas 2 → 4, not by this deploy')
  })

  it('is still superseded when anything else changed too', () => {
    const verdict = judge(baseline, scaled(4, 'app:3', 4), STACK, at(DEFAULT_MONITOR_MS), deployed)
    expect(verdict.status).toBe('superseded')
    expect(verdict.services[0]!.message).toMatch(/image app:2 → app:3; replicas 2 → 4/)
  })

  it('is judged on the live count when this deploy did not change the service', () => {
    const same = deployedOf(baseline, before, STACK)
    const verdict = judge(
      baseline,
      snap([service(3)], [task(1, 'running'), task(2, 'running'), { ...task(3, 'running'), NodeID: 'mgr' }]),
      STACK,
      at(DEFAULT_MONITOR_MS),
      same
    )
    expect(verdict.status).toBe('converged')
    expect(verdict.services[0]!.message).toBe('unchanged, 3/3 running; replicas 2 → 3, not by this deploy')
  })
})

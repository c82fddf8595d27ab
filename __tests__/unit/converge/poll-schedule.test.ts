import { describe, expect, it } from '@jest/globals'
import { baselineOf, deployedOf } from '../../../src/converge/spec.js'
import { FAST_POLL_MS, nextPollIn, settleDue } from '../../../src/converge/poll-schedule.js'
import { watch } from '../../../src/converge/watch.js'
import type { ServiceVerdict } from '../../../src/converge/verdict.js'
import type { Service, Snapshot, Task } from '../../../src/swarm/model.js'

const LABELS = { 'com.docker.stack.namespace': 'web' }
const nodes = [{ ID: 'n1', Description: { Hostname: 'mgr' }, Status: { State: 'ready' as const } }]
const service = (image: string, update?: Service['UpdateStatus']): Service => ({
  ID: 's1',
  Version: { Index: 1 },
  Spec: {
    Name: 'web_app',
    Labels: LABELS,
    TaskTemplate: { ContainerSpec: { Image: image } },
    Mode: { Replicated: { Replicas: 1 } },
    UpdateConfig: { Monitor: 5e9 }
  },
  ...(update ? { UpdateStatus: update } : {})
})
const task = (id: string, image: string, state: 'starting' | 'running' | 'shutdown'): Task => ({
  ID: id,
  ServiceID: 's1',
  NodeID: 'n1',
  Spec: { ContainerSpec: { Image: image } },
  DesiredState: state === 'shutdown' ? 'shutdown' : 'running',
  Status: { State: state }
})
const judged = (over: Partial<ServiceVerdict>): Pick<ServiceVerdict, 'id' | 'state' | 'running' | 'desired' | 'updateState'> => ({
  id: 's1',
  state: 'pending',
  running: 1,
  desired: 1,
  updateState: 'updating',
  ...over
})

describe('settleDue', () => {
  const snapshot: Snapshot = { services: [service('a:2')], tasks: [task('old', 'a:1', 'shutdown'), task('new', 'a:2', 'running')], nodes }
  const baseline = { taskIds: ['old'] }

  it('is a monitor period after the last new task was first seen running, once every wanted task runs', () => {
    const due = settleDue({ services: [judged({}) as ServiceVerdict] }, snapshot, baseline, new Map([['new', 1_200]]))
    expect(due).toEqual({ at: 6_200, swarm: true })
  })

  it('is unknown while a pending service still starts tasks, rolls back, or runs none of this deploy', () => {
    expect(settleDue({ services: [judged({ running: 0 }) as ServiceVerdict] }, snapshot, baseline, new Map([['new', 1_200]]))).toBeUndefined()
    expect(settleDue({ services: [judged({ state: 'rolling-back' }) as ServiceVerdict] }, snapshot, baseline, new Map([['new', 1_200]]))).toBeUndefined()
    expect(settleDue({ services: [judged({}) as ServiceVerdict] }, snapshot, baseline, new Map([['old', 0]]))).toBeUndefined()
  })

  it('leaves out services already decided, and needs Swarm only for an update under way', () => {
    const created = judged({ updateState: undefined }) as ServiceVerdict
    const done = { ...judged({ id: 's2', state: 'converged' }) } as ServiceVerdict
    expect(settleDue({ services: [created, done] }, snapshot, baseline, new Map([['new', 500]]))).toEqual({ at: 5_500, swarm: false })
  })
})

describe('nextPollIn', () => {
  it('keeps the interval when nothing is due, and after a due moment the judge decides alone', () => {
    expect(nextPollIn(250, 1_000, undefined)).toBe(250)
    expect(nextPollIn(250, 6_000, { at: 5_900, swarm: false })).toBe(250)
  })

  it('aims a poll at the moment the judge counts the tasks as up', () => {
    expect(nextPollIn(250, 5_800, { at: 5_900, swarm: false })).toBe(100)
    expect(nextPollIn(250, 1_000, { at: 5_900, swarm: false })).toBe(250)
  })

  it('polls every FAST_POLL_MS from a poll before Swarm can complete until a poll after, then as usual', () => {
    const due = { at: 6_000, swarm: true }
    expect(nextPollIn(250, 5_600, due)).toBe(100)
    expect(nextPollIn(250, 5_700, due)).toBe(FAST_POLL_MS)
    expect(nextPollIn(250, 6_250, due)).toBe(FAST_POLL_MS)
    expect(nextPollIn(250, 6_300, due)).toBe(250)
  })
})

describe('watch, at the end of an update', () => {
  it("gives the verdict within FAST_POLL_MS of Swarm's completion, not up to a poll interval after it", async () => {
    // The new task runs from 1.1 s (first seen at the poll of 1.25 s); Swarm completes the update a 5 s
    // monitor period after it saw the task running: at 6.1 s. Polls every 250 ms would see it at 6.25 s.
    let now = 0
    const before = service('a:1', { State: 'completed', StartedAt: 'earlier' })
    const baseline = baselineOf({ services: [before], tasks: [task('old', 'a:1', 'running')], nodes }, 'web')
    const at = (t: number): Snapshot => {
      const update = t >= 6_100 ? { State: 'completed' as const, StartedAt: 'now' } : { State: 'updating' as const, StartedAt: 'now' }
      const fresh = task('new', 'a:2', t >= 1_100 ? 'running' : 'starting')
      return {
        services: [{ ...service('a:2', update), PreviousSpec: before.Spec }],
        tasks: [task('old', 'a:1', t >= 1_100 ? 'shutdown' : 'running'), fresh],
        nodes
      }
    }
    const first = at(0)
    const polls: number[] = []
    const result = await watch(
      { snapshot: async () => (polls.push(now), at(now)), rollback: async () => undefined },
      {
        stack: 'web',
        pollMs: 250,
        rollbackOnFailure: true,
        baseline,
        deployed: deployedOf(baseline, first, 'web'),
        deployedAt: 0,
        deadline: 60_000,
        log: () => undefined,
        first: { snapshot: first, polledAt: 0 },
        now: () => now,
        sleep: async ms => void (now += ms)
      }
    )
    expect(result.verdict.status).toBe('converged')
    expect(result.verdictAt).toBeGreaterThanOrEqual(6_100)
    expect(result.verdictAt).toBeLessThanOrEqual(6_100 + FAST_POLL_MS)
    // Fast polls only around the due moment: the rest of the rollout keeps the usual interval.
    expect(polls.filter(t => t < 5_000).every((t, i, all) => i === 0 || t - all[i - 1]! === 250)).toBe(true)
  })
})

import { describe, expect, it } from '@jest/globals'
import { baselineOf, deployedOf } from '../../../src/converge/spec.js'
import type { Snapshot } from '../../../src/swarm/model.js'
import type { SwarmApi } from '../../../src/ports.js'
import type { Wait, WatchResult } from '../../../src/converge/watch.js'
import { unreadableVerdict, watch } from '../../../src/converge/watch.js'

const LABELS = { 'com.docker.stack.namespace': 'web' }
const svc = {
  ID: 's1',
  Version: { Index: 1 },
  Spec: { Name: 'web_app', Labels: LABELS, TaskTemplate: { ContainerSpec: { Image: 'a:1' } }, Mode: { Replicated: { Replicas: 1 } } }
}
const tsk = (state: 'starting' | 'running') => ({
  ID: 't1',
  ServiceID: 's1',
  NodeID: 'n1',
  Spec: { ContainerSpec: { Image: 'a:1' } },
  DesiredState: 'running' as const,
  Status: { State: state }
})
const nodes = [{ ID: 'n1', Description: { Hostname: 'mgr' }, Status: { State: 'ready' as const } }]

/** A fake engine that replays snapshots (or errors), and a fake clock. */
function scripted(steps: Array<Snapshot | Error>, replyMs: number[] = []) {
  let now = 0
  let i = 0
  const rollbacks: string[] = []
  const asked: Array<string[] | undefined> = []
  const api: Pick<SwarmApi, 'snapshot' | 'rollback'> = {
    rollback: async (id: string) => void rollbacks.push(id),
    snapshot: async (_stack: string, serviceIds?: string[]) => {
      asked.push(serviceIds)
      now += replyMs[i] ?? 0
      const step = steps[Math.min(i++, steps.length - 1)]!
      if (step instanceof Error) throw step
      return step
    }
  }
  return { api, rollbacks, asked, now: () => now, sleep: async (ms: number) => void (now += ms) }
}

type Scripted = ReturnType<typeof scripted>

/** watch on a scripted engine and its clock: stack web, deployed at 0, a 60 s deadline, 500 ms polls, rollback on failure, no log, unless a test says otherwise. */
function watchOn(fake: Scripted, options: Pick<Wait, 'baseline' | 'deployed'> & Partial<Wait>): Promise<WatchResult> {
  return watch(fake.api, {
    stack: 'web',
    deployedAt: 0,
    deadline: 60_000,
    pollMs: 500,
    rollbackOnFailure: true,
    log: () => undefined,
    now: fake.now,
    sleep: fake.sleep,
    ...options
  })
}

/** What the deploy left: the first snapshot the watcher gets, as the action records it. */
const leftBy = (first: Snapshot, baseline: ReturnType<typeof baselineOf>) => deployedOf(baseline, first, 'web')

describe('watch', () => {
  const baseline = baselineOf({ services: [], tasks: [], nodes: [] }, 'web')
  const starting: Snapshot = { services: [svc], tasks: [tsk('starting')], nodes }
  const running: Snapshot = { services: [svc], tasks: [tsk('running')], nodes }

  it('prints progress on change only and returns the verdict', async () => {
    const fake = scripted([starting, starting, starting, new Error('socket hang up'), running])
    const log: string[] = []
    const result = await watchOn(fake, {
      baseline,
      deployed: leftBy(starting, baseline),
      log: l => log.push(l)
    })
    expect(result.verdict.status).toBe('converged')
    // Running from the poll at 2 s, the new task is up once it stays so for Swarm's default 5 s monitor.
    expect(result.verdictAt).toBe(7_000)
    expect(result.polls).toBe(14)
    expect(log.filter(l => l.includes('web_app: starting: 0/1 running'))).toHaveLength(1)
    expect(log.filter(l => l.includes('web_app: started: 1/1 running; checking they stay up'))).toHaveLength(1)
    expect(log).toContain('Could not read the swarm state (will retry): socket hang up')
    expect(log[log.length - 1]).toMatch(/web_app: created, 1\/1 running/)
  })

  it('counts each snapshot read as a poll, not a failed one', async () => {
    const fake = scripted([starting, new Error('socket hang up'), running])
    const result = await watchOn(fake, {
      baseline,
      deployed: leftBy(starting, baseline)
    })
    expect(fake.asked.length).toBe(result.polls + 1)
  })

  it('judges a snapshot read before the wait as its first poll, without asking for it again', async () => {
    const fake = scripted([running])
    const log: string[] = []
    const result = await watchOn(fake, {
      baseline,
      deployed: leftBy(starting, baseline),
      log: l => log.push(l),
      first: { snapshot: starting, polledAt: 0 }
    })
    // The first verdict is of the snapshot given; the engine is asked from the second poll on, for the undecided service only.
    expect(log[0]).toMatch(/^\[0s\]\n {2}web_app: starting: 0\/1 running/)
    expect(fake.asked[0]).toEqual(['s1'])
    expect(result.verdict.status).toBe('converged')
    expect(result.polls).toBe(fake.asked.length + 1)
  })

  it('does not let a slow reply stretch how long a task has proven to stay up', async () => {
    // Running at 0 s; the next reply takes 6 s. What it shows may be from 0.5 s,
    // so the task has proven 0.5 s, not 6.5 s; the poll at 7 s proves 7 s.
    const fake = scripted([running, running, running], [0, 6_000, 0])
    const result = await watchOn(fake, {
      baseline,
      deployed: leftBy(starting, baseline)
    })
    expect(result.verdict.status).toBe('converged')
    expect(result.polls).toBe(3)
    expect(result.verdictAt).toBe(7_000)
  })

  it('never turns an unreachable engine into success', async () => {
    const fake = scripted([new Error('connection lost')])
    const result = await watchOn(fake, {
      baseline,
      deployed: leftBy(starting, baseline),
      deadline: 5_000
    })
    expect(result.verdict.status).toBe('timed-out')
    expect(result.verdict.summary).toContain('connection lost')
  })

  it('asks Swarm once to roll back an update it paused, then reports rolled-back', async () => {
    const old = { ...svc, UpdateStatus: { State: 'completed' as const, StartedAt: 't0' } }
    const before = baselineOf({ services: [old], tasks: [tsk('running')], nodes }, 'web')
    const changed = { ...svc, Spec: { ...svc.Spec, TaskTemplate: { ContainerSpec: { Image: 'a:2' } } } }
    const paused = { ...changed, PreviousSpec: old.Spec, UpdateStatus: { State: 'paused' as const, StartedAt: 't1', Message: 'update paused due to failure' } }
    const rolling = { ...old, UpdateStatus: { State: 'rollback_started' as const, StartedAt: 't2' } }
    const back = { ...old, UpdateStatus: { State: 'rollback_completed' as const, StartedAt: 't2' } }
    const at = (service: typeof svc): Snapshot => ({ services: [service], tasks: [tsk('running')], nodes })
    const fake = scripted([at(paused), at(paused), at(rolling), at(back)])
    const log: string[] = []
    const result = await watchOn(fake, {
      baseline: before,
      deployed: leftBy(at(paused), before),
      log: l => log.push(l)
    })
    expect(fake.rollbacks).toEqual(['s1'])
    expect(log).toContain('Swarm paused the update of web_app; asking it to roll back (rollback-on-failure: true)')
    expect(result.verdict.status).toBe('rolled-back')
  })

  it('never judges an old snapshot again after polls start failing', async () => {
    // Pending at first; if the old snapshot were judged again past the
    // no-update grace period, a changed spec with old tasks could pass.
    const old = { ...svc, UpdateStatus: { State: 'completed' as const, StartedAt: 't0' } }
    const before = baselineOf({ services: [old], tasks: [tsk('running')], nodes }, 'web')
    const changed = { ...old, Spec: { ...svc.Spec, TaskTemplate: { ContainerSpec: { Image: 'a:1' }, ForceUpdate: 0, Placement: { Constraints: ['x'] } } } }
    const first = { services: [changed], tasks: [tsk('running')], nodes }
    const fake = scripted([first, new Error('connection lost')])
    const result = await watchOn(fake, {
      baseline: before,
      deployed: leftBy(first, before),
      deadline: 30_000
    })
    expect(result.verdict.status).toBe('timed-out')
    expect(result.verdict.summary).toMatch(/could not be read before the deadline \(connection lost\)/)
  })

  it('stops polling a service once it is decided: a poll costs what still changes', async () => {
    // web_db did not change and runs: decided by the first snapshot. web_app is created and starts.
    const db = { ...svc, ID: 's2', Spec: { ...svc.Spec, Name: 'web_db', TaskTemplate: { ContainerSpec: { Image: 'db:1' } } } }
    const dbTask = { ...tsk('running'), ID: 't2', ServiceID: 's2', Spec: { ContainerSpec: { Image: 'db:1' } } }
    const before = baselineOf({ services: [db], tasks: [dbTask], nodes }, 'web')
    const first: Snapshot = { services: [db, svc], tasks: [dbTask, tsk('starting')], nodes }
    // Later polls ask for web_app only, and the fake answers with web_app only.
    const fake = scripted([first, starting, running])
    const result = await watchOn(fake, {
      baseline: before,
      deployed: leftBy(first, before)
    })
    expect(fake.asked[0]).toBeUndefined()
    expect(fake.asked.slice(1).every(ids => ids?.length === 1 && ids[0] === 's1')).toBe(true)
    expect(result.verdict.status).toBe('converged')
    expect(result.verdict.services.map(s => [s.name, s.state, s.change])).toEqual([
      ['web_app', 'converged', 'created'],
      ['web_db', 'converged', 'unchanged']
    ])
  })
})

describe('unreadableVerdict', () => {
  const service = (name: string, state: 'pending' | 'converged', change: 'updated' | 'unchanged') =>
    ({ name, state, change }) as unknown as import('../../../src/converge/verdict.js').ServiceVerdict
  const last = (services: ReturnType<typeof service>[]) => ({ status: 'pending' as const, services, summary: '' })

  it('names the services that had not finished updating: the stack may be partly updated', () => {
    const verdict = unreadableVerdict(
      'web',
      'the swarm has lost its quorum: …',
      last([service('web_app', 'pending', 'updated'), service('web_db', 'pending', 'unchanged')])
    )
    expect(verdict.status).toBe('timed-out')
    expect(verdict.summary).toBe(
      'Stack web timed out: the swarm state could not be read before the deadline (the swarm has lost its quorum: …). The stack may be partly updated: web_app had not finished updating when the swarm state was last read; check it (docker stack ps web) once the swarm answers again.'
    )
  })

  it('says so when every service had finished, and when nothing was ever read', () => {
    expect(unreadableVerdict('web', 'x', last([service('web_app', 'converged', 'updated')])).summary).toContain('Its services had all finished updating')
    expect(unreadableVerdict('web', 'x', undefined).summary).toContain('Whether its services were updated is unknown')
  })
})

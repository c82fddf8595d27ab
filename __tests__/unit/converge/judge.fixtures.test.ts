// The judge on snapshots recorded from the lab swarm while real deploys ran
// (scripts/record-fixtures.mjs): every snapshot from the moment the deploy
// reached Swarm until the verdict, in order.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { JudgeClock, StackStatus, Verdict } from '../../../src/converge/verdict.js'
import { judge, UNSCHEDULABLE_GRACE_MS } from '../../../src/converge/judge.js'
import { baselineOf, DEFAULT_MONITOR_MS, deployedOf } from '../../../src/converge/spec.js'
import { seenRunning } from '../../../src/converge/tasks.js'
import type { Snapshot } from '../../../src/swarm/model.js'

interface Fixture {
  stack: string
  status: StackStatus
  baseline: Snapshot
  snapshots: Snapshot[]
}

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures')
// The same scenarios recorded on both engines of the lab (LAB_ENGINE): the judge must read them alike.
const ENGINES = [
  { engine: '20.10', dir: FIXTURES },
  { engine: '28.5', dir: path.join(FIXTURES, 'engine-28') }
]

/** Snapshots taken after `docker stack deploy` changed the stack (what the watcher sees). */
function afterDeploy(f: Fixture): Snapshot[] {
  const versions = new Map(f.baseline.services.map(s => [s.ID, s.Version.Index]))
  const first = f.snapshots.findIndex(s => s.services.some(v => versions.get(v.ID) !== v.Version.Index))
  return first < 0 ? [] : f.snapshots.slice(first)
}

/** The rollout as the watcher knows it: the baseline, and the specs the first snapshot after the deploy shows. */
function rolloutOf(f: Fixture) {
  const baseline = baselineOf(f.baseline, f.stack)
  return { baseline, deployed: deployedOf(baseline, afterDeploy(f)[0]!, f.stack) }
}

function judgeFixture(f: Fixture, snapshot: Snapshot, at: JudgeClock): Verdict {
  const { baseline, deployed } = rolloutOf(f)
  return judge(baseline, snapshot, f.stack, at, deployed)
}

/** Snapshots were taken about every 250 ms; one equal to the last was not kept twice. */
const POLL_MS = 250

/**
 * The verdicts the watcher gives on the recorded snapshots, in order, and
 * once more on the last snapshot after the monitor period: it held until
 * the recording ended, so its tasks had time to prove they stay up.
 */
function statuses(f: Fixture, deadlineReached = false): StackStatus[] {
  const snapshots = afterDeploy(f)
  const { baseline, deployed } = snapshots.length > 0 ? rolloutOf(f) : { baseline: baselineOf(f.baseline, f.stack), deployed: {} }
  const times = snapshots.map((_, i) => i * POLL_MS)
  if (snapshots.length > 0) {
    snapshots.push(snapshots.at(-1)!)
    times.push(times.at(-1)! + DEFAULT_MONITOR_MS)
  }
  let runningSince = new Map<string, number>()
  return snapshots.map((s, i) => {
    runningSince = seenRunning(runningSince, s, times[i]!)
    return judge(baseline, s, f.stack, { sinceDeployMs: times[i]!, deadlineReached, runningSince, rollbackOnFailure: true }, deployed).status
  })
}

/** A clock for judging one snapshot whose running tasks have long stayed up. */
const clock = (extra: Partial<JudgeClock> = {}): JudgeClock => ({
  sinceDeployMs: 0,
  deadlineReached: false,
  rollbackOnFailure: true,
  runningSince: { get: () => -DEFAULT_MONITOR_MS },
  ...extra
})

/** Pending until the verdict, then the verdict: never a premature or flapping answer. */
function expectPendingThen(seen: StackStatus[], verdict: StackStatus): void {
  const first = seen.indexOf(verdict)
  expect(first).toBeGreaterThan(0)
  expect(seen.slice(0, first).every(s => s === 'pending')).toBe(true)
  expect(seen.slice(first).every(s => s === verdict)).toBe(true)
}

describe.each(ENGINES)('judge on lab snapshots recorded on engine $engine', ({ dir }) => {
  const load = (name: string): Fixture => JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Fixture

  it('fresh deploy: pending while tasks start, then converged', () => {
    const f = load('fresh')
    expect(f.status).toBe('converged')
    expectPendingThen(statuses(f), 'converged')
  })

  it('update: the previous completed status is not read as this one; converged on completion', () => {
    const f = load('update')
    expect(f.baseline.services[0]!.UpdateStatus?.State ?? 'none').not.toBe('updating')
    expectPendingThen(statuses(f), 'converged')
    const last = judgeFixture(f, f.snapshots.at(-1)!, clock())
    expect(last.services[0]).toMatchObject({ change: 'updated', updateState: 'completed', running: 4, desired: 4 })
  })

  it('unchanged redeploy: converged at once, starting no update', () => {
    const f = load('unchanged')
    const seen = statuses(f)
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every(s => s === 'converged')).toBe(true)
    const verdict = judgeFixture(f, afterDeploy(f)[0]!, clock())
    expect(verdict.services[0]).toMatchObject({ change: 'unchanged', updateState: undefined })
  })

  it('failing healthcheck: pending through the rollback, then rolled-back with the unhealthy tasks', () => {
    const f = load('rollback')
    expectPendingThen(statuses(f), 'rolled-back')
    const last = judgeFixture(f, f.snapshots.at(-1)!, clock())
    expect(last.services[0]!.updateState).toBe('rollback_completed')
    expect(last.services[0]!.failures.length).toBeGreaterThan(0)
    expect(last.services[0]!.failures[0]!.error).toMatch(/unhealthy container/)
  })

  it('unschedulable: pending until the deadline, then timed-out with the scheduler reason', () => {
    const f = load('unschedulable')
    expect(statuses(f).every(s => s === 'pending')).toBe(true)
    const late = judgeFixture(f, f.snapshots.at(-1)!, clock({ deadlineReached: true }))
    expect(late.status).toBe('timed-out')
    expect(late.summary).toMatch(/no suitable node \(scheduling constraints not satisfied on 2 nodes\)/)
    const past = judgeFixture(f, f.snapshots.at(-1)!, clock({ sinceDeployMs: UNSCHEDULABLE_GRACE_MS }))
    expect(past.status).toBe('failed')
    expect(past.summary).toMatch(/stuck \(no node can run it: no suitable node/)
  })

  it('global service: converged with one running task on each node', () => {
    const f = load('global')
    expectPendingThen(statuses(f), 'converged')
    const last = judgeFixture(f, f.snapshots.at(-1)!, clock())
    expect(last.services[0]).toMatchObject({ mode: 'global', running: 2, desired: 2, nodes: ['swl-mgr', 'swl-wrk'] })
  })

  it('global service read before the orchestrator added its tasks: pending, owing one task to each node', () => {
    // CI saw this: the read right after the deploy found the new service with
    // no task yet, and counting the tasks said 0/0, converged.
    const f = load('global')
    // docker stack deploy creates the services in no set order: the first read that shows `agent`, the one on every node.
    const agent = `${f.stack}_agent`
    const created = { ...afterDeploy(f).find(s => s.services.some(v => v.Spec.Name === agent))!, tasks: [] }
    const verdict = judgeFixture(f, created, clock())
    expect(verdict.status).toBe('pending')
    expect(verdict.services.find(s => s.name === agent)).toMatchObject({ mode: 'global', state: 'pending', running: 0, desired: 2 })
  })

  it('replicated-job: converged when it completes; a failed job fails at once', () => {
    const ok = load('job')
    expectPendingThen(statuses(ok), 'converged')
    const failed = load('job-failed')
    expect(failed.status).toBe('failed')
    expectPendingThen(statuses(failed), 'failed')
    const last = judgeFixture(failed, failed.snapshots.at(-1)!, clock())
    expect(last.services[0]!.message).toMatch(/^the job failed on swl-(mgr|wrk): task: non-zero exit \(1\)$/)
  })

  it('replicas: 0: converged at once', () => {
    const seen = statuses(load('zero'))
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every(s => s === 'converged')).toBe(true)
  })

  it('paused update: asks for a rollback, then rolled-back; or failed when told not to', () => {
    const f = load('pause')
    expectPendingThen(statuses(f), 'rolled-back')
    const paused = afterDeploy(f).find(s => s.services[0]!.UpdateStatus?.State === 'paused')!
    expect(judgeFixture(f, paused, clock()).services[0]).toMatchObject({ state: 'rolling-back', rollbackWanted: true })
    const kept = judgeFixture(f, paused, clock({ rollbackOnFailure: false }))
    expect(kept.status).toBe('failed')
    expect(kept.services[0]!.message).toMatch(/^update paused by Swarm: .*; left paused \(rollback-on-failure: false\)$/)
  })

  it('another update mid-rollout: pending, then superseded naming the image and variable, never converged', () => {
    const f = load('superseded')
    expect(f.status).toBe('superseded')
    expectPendingThen(statuses(f), 'superseded')
    const { deployed } = rolloutOf(f)
    const ours = Object.values(deployed)[0]!
    const last = judgeFixture(f, f.snapshots.at(-1)!, clock())
    const theirs = f.snapshots.at(-1)!.services[0]!.Spec.TaskTemplate.ContainerSpec!.Image
    expect(theirs).not.toBe(ours.spec.TaskTemplate.ContainerSpec!.Image)
    expect(last.services[0]).toMatchObject({ state: 'superseded', change: 'updated' })
    expect(last.services[0]!.message).toBe(
      `changed by someone else during the rollout (image ${ours.spec.TaskTemplate.ContainerSpec!.Image} → ${theirs}; environment FOREIGN added): this deploy's spec no longer runs`
    )
  })

  it('the service removed mid-rollout: pending, then superseded naming it', () => {
    const f = load('removed')
    expectPendingThen(statuses(f), 'superseded')
    const last = judgeFixture(f, f.snapshots.at(-1)!, clock())
    expect(f.snapshots.at(-1)!.services).toEqual([])
    expect(last.services).toEqual([
      expect.objectContaining({ name: `${f.stack}_web`, state: 'superseded', message: 'removed by someone else during the rollout' })
    ])
  })

  it('Swarm rolling back to the previous spec is rolled-back, never superseded', () => {
    for (const name of ['rollback', 'pause']) expect(statuses(load(name))).not.toContain('superseded')
  })

  it('crashing new service: failed, with nothing to roll back to', () => {
    const f = load('crash')
    expectPendingThen(statuses(f), 'failed')
    const last = judgeFixture(f, f.snapshots.at(-1)!, clock())
    expect(last.services[0]!.message).toBe('the new service fails to start and has no previous version to roll back to: task: non-zero exit (3)')
  })
})

// The deploy lock while a run holds it: renewed well within its TTL, so a
// live holder is never taken over (however long its diagnostics or a
// rollback-stack take, and whatever the waiters' clocks say), taken over
// once its holder has stopped renewing for the TTL and a margin by the
// swarm's own clock, and renewed no more once released. Runners and the
// manager each have their own clock here; jest's fake timers drive the
// renewal.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { RunLeftovers } from '../../../src/leftovers.js'
import { newLock } from '../../../src/lock/lock.js'
import { deployLockRequest, takeDeployLock } from '../../../src/lock/run.js'
import { LockBusy } from '../../../src/lock/store.js'
import { memorySwarm, place, type MemorySwarm } from '../../support/memory-swarm.js'

const T0 = Date.parse('2026-12-01T20:00:00.000Z')
// timeout 60 s: a TTL of 90 s with the 30 s margin.
const INPUTS = { stack: 'shop', timeoutMs: 60_000, onFailure: 'swarm' as const, smoke: undefined }

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
}

/** The swarm and the runners, each with its own clock; time passes for all of them at once. */
function world() {
  const swarm = memorySwarm(T0)
  const clocks: Array<{ now: number }> = []
  const pass = async (ms: number, step = 1_000): Promise<void> => {
    for (let left = ms; left > 0; left -= step) {
      const dt = Math.min(step, left)
      swarm.clock.now += dt
      for (const clock of clocks) clock.now += dt
      jest.advanceTimersByTime(dt)
      await settle()
    }
  }
  const runner = (user: string, offsetMs = 0) => {
    const clock = { now: swarm.clock.now + offsetMs }
    clocks.push(clock)
    const lines: string[] = []
    const host = { env: { USER: user }, hostname: 'box', now: () => clock.now, sleep: (ms: number) => pass(ms), leftovers: new RunLeftovers() }
    const reporter = { info: (line: string) => void lines.push(`info ${line}`), warn: (line: string) => void lines.push(`warn ${line}`) }
    const take = (lockTimeoutMs = 60_000) => takeDeployLock(swarm, deployLockRequest({ ...INPUTS, lockTimeoutMs }), host, reporter)
    return { clock, lines, take }
  }
  return { swarm, pass, runner }
}

const holderOf = (swarm: MemorySwarm): string | undefined => JSON.parse(swarm.configs.get('shop_lock')?.data.toString('utf8') ?? '{}').holder

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'], now: T0 })
})
afterEach(() => {
  jest.useRealTimers()
})

describe('the deploy lock while a run holds it', () => {
  it('is renewed, so a holder running past its TTL is not taken over', async () => {
    const { swarm, pass, runner } = world()
    const a = runner('ana')
    const held = await a.take()
    await pass(300_000, 5_000)
    expect(swarm.labelUpdates.length).toBeGreaterThanOrEqual(10)
    const waiter = await runner('bo')
      .take(60_000)
      .catch((error: unknown) => error)
    expect(waiter).toBeInstanceOf(LockBusy)
    expect(holderOf(swarm)).toBe('ana@box')
    expect((await held.release()).level).toBe('info')
  })

  it('is not taken over by a waiter whose clock runs ahead', async () => {
    const { swarm, runner } = world()
    const held = await runner('ana').take()
    const waiter = await runner('bo', 10 * 60_000)
      .take(30_000)
      .catch((error: unknown) => error)
    expect(waiter).toBeInstanceOf(LockBusy)
    expect(holderOf(swarm)).toBe('ana@box')
    await held.release()
  })

  it("of a dead holder is taken over once the TTL and the margin have passed since its last renewal, by the swarm's clock", async () => {
    const { swarm, runner } = world()
    // Its holder's clock was days behind; it last renewed the lock 60 s ago (the swarm's time).
    place(swarm, newLock('shop', 'cy@gone', T0 - 3 * 86_400_000, 90_000, 'x'), T0 - 60_000)
    const b = runner('bo', -3_600_000)
    const held = await b.take(300_000)
    expect(held.lock.holder).toBe('bo@box')
    // Renewed at T0 - 60 s, TTL 90 s, margin 30 s: T0 + 60 s, give or take a poll.
    expect(swarm.clock.now).toBeGreaterThanOrEqual(T0 + 60_000)
    expect(swarm.clock.now).toBeLessThan(T0 + 66_000)
    expect(b.lines.find(line => line.startsWith('warn'))).toMatch(
      /^warn The deploy lock held by cy@gone since .* was last renewed at 2026-12-01T19:59:00\.000Z/
    )
    await held.release()
  })

  it('is renewed no more once released, and leaves no timer behind', async () => {
    const { swarm, pass, runner } = world()
    const held = await runner('ana').take()
    await pass(50_000)
    const renewed = swarm.labelUpdates.length
    expect(renewed).toBeGreaterThan(0)
    await held.release()
    await pass(300_000, 10_000)
    expect(swarm.labelUpdates).toHaveLength(renewed)
    expect(jest.getTimerCount()).toBe(0)
  })

  it('says loudly that the lock was lost when another run took it, renews it no more, and goes on', async () => {
    const { swarm, pass, runner } = world()
    const a = runner('ana')
    const held = await a.take()
    swarm.configs.clear()
    const other = newLock('shop', 'bo@desk', T0, 90_000, 'y')
    place(swarm, other)
    await pass(120_000)
    const lost = a.lines.filter(line => line.includes("no longer this run's"))
    expect(lost).toEqual([
      `warn The deploy lock of stack shop is no longer this run's: it is held by bo@desk since ${other.taken} (taken over, or removed with swarm-deploy unlock, while this run held it). Another deploy of the stack may be running at the same time as this one.`
    ])
    expect(swarm.labelUpdates).toEqual([])
    expect((await held.release()).level).toBe('warn')
    expect(holderOf(swarm)).toBe('bo@desk')
  })

  it('warns when a renewal fails, and renews at the next try', async () => {
    const { swarm, pass, runner } = world()
    const a = runner('ana')
    const held = await a.take()
    swarm.failing = new Error('connect ECONNREFUSED /tmp/engine.sock')
    await pass(25_000)
    expect(a.lines.filter(line => line.startsWith('warn'))).toEqual([
      expect.stringMatching(/^warn Could not renew the deploy lock of stack shop \(.*\): connect ECONNREFUSED \/tmp\/engine\.sock$/)
    ])
    swarm.failing = undefined
    await pass(25_000)
    expect(swarm.labelUpdates.length).toBeGreaterThan(0)
    await held.release()
  })
})

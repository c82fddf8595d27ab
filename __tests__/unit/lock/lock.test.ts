// The deploy lock: what it holds, when it expires, how a waiter paces
// itself, and the take/wait/release rules on an in-memory swarm whose config
// create is atomic by name, as swarmkit's is; then the engine with it.
import { describe, expect, it } from '@jest/globals'
import { runDeploy } from '../../../src/engine.js'
import { getInputs } from '../../../src/inputs/inputs.js'
import { deployLockRequest, takeDeployLock } from '../../../src/lock/run.js'
import { readSmokeCheck } from '../../../src/inputs/smoke-inputs.js'
import {
  decodeLock,
  describeHolder,
  encodeLock,
  holderOf,
  isExpired,
  LOCK_LABEL,
  LOCK_MARGIN_MS,
  lockLabels,
  lockTtlMs,
  newLock,
  nextPollMs,
  renewEveryMs,
  shouldReport,
  SKEW_MARGIN_MS
} from '../../../src/lock/lock.js'
import { breakLock, LockBusy, readLock, takeLock } from '../../../src/lock/store.js'
import { RunLeftovers } from '../../../src/leftovers.js'
import type { SwarmLeftover } from '../../../src/ports.js'
import { settleLeftovers } from '../../../src/swarm/cancel-leftovers.js'
import { COMPOSE, fakeWorld, inputsFor, recordingReporter, STACK } from '../../support/fake-world.js'
import { memorySwarm, place, type MemorySwarm } from '../../support/memory-swarm.js'

const T0 = Date.parse('2026-12-01T20:00:00.000Z')

describe('lock content', () => {
  it('names the holder by the run URL in a workflow run, else user@host', () => {
    const run = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/shop', GITHUB_RUN_ID: '42', USER: 'runner' }
    expect(holderOf(run, 'fv-az1')).toBe('https://github.com/acme/shop/actions/runs/42')
    expect(holderOf({ USER: 'ana' }, 'laptop')).toBe('ana@laptop')
    expect(holderOf({ LOGNAME: 'bo' }, '')).toBe('bo@unknown-host')
    expect(holderOf({ GITHUB_RUN_ID: '42', USER: 'ana' }, 'laptop')).toBe('ana@laptop')
  })

  it("lasts the holder's timeout plus the margin, twice the timeout with rollback-stack", () => {
    expect(lockTtlMs(600_000, 'swarm')).toBe(600_000 + LOCK_MARGIN_MS)
    expect(lockTtlMs(600_000, 'rollback-stack')).toBe(1_200_000 + LOCK_MARGIN_MS)
  })

  it('holds the holder, the time taken and the expiry, and nothing else', () => {
    const data = newLock('shop', 'ana@laptop', T0, 90_000, 'abc')
    expect(data).toEqual({
      format: 1,
      stack: 'shop',
      holder: 'ana@laptop',
      taken: '2026-12-01T20:00:00.000Z',
      expires: '2026-12-01T20:01:30.000Z',
      token: 'abc'
    })
    expect(lockLabels(data)).toEqual({
      [LOCK_LABEL]: 'shop',
      'io.swarm-deploy.lock.holder': 'ana@laptop',
      'io.swarm-deploy.lock.expires': '2026-12-01T20:01:30.000Z'
    })
    expect(decodeLock({ id: 'c1', name: 'shop_lock', data: encodeLock(data) })).toEqual({ ...data, id: 'c1', version: 0, ttlMs: 90_000 })
    // Renewed: the label's later expiry, the manager's stamp; the TTL stays the one written.
    const renewed = { ...lockLabels(data), 'io.swarm-deploy.lock.expires': '2026-12-01T20:05:00.000Z' }
    expect(
      decodeLock({ id: 'c1', name: 'shop_lock', data: encodeLock(data), version: 7, labels: renewed, updatedAt: '2026-12-01T20:03:30.123456789Z' })
    ).toEqual({
      ...data,
      id: 'c1',
      version: 7,
      ttlMs: 90_000,
      expires: '2026-12-01T20:05:00.000Z',
      renewedAt: Date.parse('2026-12-01T20:03:30.123Z')
    })
    expect(describeHolder(data)).toBe('ana@laptop since 2026-12-01T20:00:00.000Z')
  })

  it('reads back only a lock of its own name', () => {
    const data = encodeLock(newLock('shop', 'ana@laptop', T0, 90_000, 'abc'))
    expect(decodeLock({ id: 'c1', name: 'other_lock', data })).toBeUndefined()
    expect(decodeLock({ id: 'c1', name: 'shop_lock', data: Buffer.from('not json') })).toBeUndefined()
    expect(decodeLock({ id: 'c1', name: 'shop_lock', data: Buffer.from('{"format":1,"number":3}') })).toBeUndefined()
  })

  it('has expired from its expiry on; an expiry that does not parse counts as expired', () => {
    const lock = newLock('shop', 'ana@laptop', T0, 90_000, 'abc')
    expect(isExpired(lock, T0 + 89_999)).toBe(false)
    expect(isExpired(lock, T0 + 90_000)).toBe(true)
    expect(isExpired({ expires: 'soon' }, T0)).toBe(true)
  })

  it("is judged by the swarm's clock when the swarm stamped it: TTL and margin after its last renewal, whatever the runner's clock says", () => {
    const lock = { ...newLock('shop', 'ana@laptop', T0 - 86_400_000, 90_000, 'abc'), ttlMs: 90_000, renewedAt: T0 }
    expect(isExpired(lock, T0 + 86_400_000, T0 + 90_000 + SKEW_MARGIN_MS - 1)).toBe(false)
    expect(isExpired(lock, T0 - 86_400_000, T0 + 90_000 + SKEW_MARGIN_MS)).toBe(true)
    expect(isExpired({ ...lock, ttlMs: Number.NaN }, T0, T0)).toBe(true)
    // Not told the swarm's time: the runner's clock against the expiry written.
    expect(isExpired(lock, T0, undefined)).toBe(true)
  })

  it('is renewed every quarter of its TTL, at most every minute', () => {
    expect(renewEveryMs(35_000)).toBe(8_750)
    expect(renewEveryMs(90_000)).toBe(22_500)
    expect(renewEveryMs(3_600_000)).toBe(60_000)
    expect(renewEveryMs(0)).toBe(1_000)
  })
})

describe('wait schedule', () => {
  it('polls after 1 s, 2 s, … up to 5 s', () => {
    const far = T0 + 3_600_000
    expect([0, 1, 2, 3, 4, 5, 20].map(attempt => nextPollMs(attempt, T0, far, far))).toEqual([1000, 2000, 3000, 4000, 5000, 5000, 5000])
  })

  it('never sleeps past the deadline, and wakes just after the lock expires', () => {
    expect(nextPollMs(10, T0, T0 + 1_200, T0 + 60_000)).toBe(1_200)
    expect(nextPollMs(10, T0, T0 + 60_000, T0 + 2_000)).toBe(2_250)
    expect(nextPollMs(10, T0 + 10, T0, T0 + 60_000)).toBe(0)
    expect(nextPollMs(0, T0, T0 + 60_000, Number.NaN)).toBe(1_000)
  })

  it('reports a holder when first seen, a new holder at once, the same one every 30 s', () => {
    expect(shouldReport({ id: 'a' }, undefined, T0)).toBe(true)
    expect(shouldReport({ id: 'a' }, { id: 'a', at: T0 }, T0 + 29_999)).toBe(false)
    expect(shouldReport({ id: 'a' }, { id: 'a', at: T0 }, T0 + 30_000)).toBe(true)
    expect(shouldReport({ id: 'b' }, { id: 'a', at: T0 }, T0 + 1)).toBe(true)
  })
})

/** The runner's clock and log; here the runner's clock is the swarm's (they agree). */
function clockAndLog(api: MemorySwarm) {
  const clock = api.clock
  const lines: string[] = []
  return {
    clock,
    lines,
    now: () => clock.now,
    sleep: async (ms: number) => void (clock.now += ms),
    log: { info: (line: string) => void lines.push(`info ${line}`), warn: (line: string) => void lines.push(`warn ${line}`) }
  }
}

const take = (holder: string, t: ReturnType<typeof clockAndLog>, waitMs = 60_000) => ({
  stack: 'shop',
  holder,
  ttlMs: 90_000,
  waitMs,
  token: `token-${holder}`,
  now: t.now,
  sleep: t.sleep,
  log: t.log
})

describe('takeLock', () => {
  it('takes a free lock at once and lets go of it', async () => {
    const api = memorySwarm()
    const t = clockAndLog(api)
    const held = await takeLock(api, take('ana@laptop', t))
    expect(held.lock).toMatchObject({ holder: 'ana@laptop', taken: new Date(T0).toISOString(), expires: new Date(T0 + 90_000).toISOString() })
    expect(t.lines).toEqual([`info Took the deploy lock of stack shop (config shop_lock) until ${new Date(T0 + 90_000).toISOString()}`])
    expect(await held.release()).toEqual({ level: 'info', message: 'Released the deploy lock of stack shop' })
    expect(api.configs.size).toBe(0)
  })

  it('waits for the holder, saying so once and then every 30 s, and takes the lock once it is released', async () => {
    const api = memorySwarm()
    const other = newLock('shop', 'https://github.com/acme/shop/actions/runs/1', T0 - 1_000, 600_000, 'x')
    place(api, other)
    const t = clockAndLog(api)
    // The holder lets go 40 s on.
    const sleep = t.sleep
    const timed = {
      ...take('ana@laptop', t, 300_000),
      sleep: async (ms: number) => {
        await sleep(ms)
        if (t.clock.now >= T0 + 40_000) api.configs.clear()
      }
    }
    const held = await takeLock(api, timed)
    expect(held.lock.holder).toBe('ana@laptop')
    const waiting = t.lines.filter(l => l.includes('Waiting for the deploy lock'))
    expect(waiting).toHaveLength(2)
    expect(waiting[0]).toBe(
      `info Waiting for the deploy lock held by https://github.com/acme/shop/actions/runs/1 since ${other.taken} (it expires at ${other.expires}; waited 0s of lock-timeout 300s)`
    )
    expect(t.lines.at(-1)).toMatch(/^info Took the deploy lock of stack shop .*, after waiting 4\ds for https:\/\/github.com\/acme\/shop\/actions\/runs\/1$/)
  })

  it('gives up after lock-timeout naming the holder, having created nothing', async () => {
    const api = memorySwarm()
    const other = newLock('shop', 'bo@desk', T0, 600_000, 'x')
    const id = place(api, other)
    const t = clockAndLog(api)
    const error = await takeLock(api, take('ana@laptop', t, 20_000)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockBusy)
    expect((error as Error).message).toBe(
      `stack shop is locked by another deploy: the deploy lock is held by bo@desk since ${other.taken} (until ${other.expires}); gave up after lock-timeout 20s. Nothing was changed. If that run is gone, \`swarm-deploy unlock --stack shop\` removes the lock.`
    )
    expect(t.clock.now).toBe(T0 + 20_000)
    expect([...api.configs.values()].map(c => c.id)).toEqual([id])
  })

  it('takes over a lock that has expired, saying whose it was', async () => {
    const api = memorySwarm()
    // Taken 130 s ago, never renewed: its TTL of 90 s and the 30 s margin have passed.
    const dead = newLock('shop', 'bo@desk', T0 - 130_000, 90_000, 'x')
    const id = place(api, dead)
    const t = clockAndLog(api)
    const held = await takeLock(api, take('ana@laptop', t))
    expect(held.lock.holder).toBe('ana@laptop')
    expect(api.removals).toEqual([id])
    expect(t.lines[0]).toBe(
      `warn The deploy lock held by bo@desk since ${dead.taken} was last renewed at ${dead.taken} and expired at ${dead.expires} by the swarm's clock (its TTL of 90s, and 30s more for clocks that differ, have passed): taking it over`
    )
  })

  it('waits until a live lock expires, then takes it over', async () => {
    const api = memorySwarm()
    place(api, newLock('shop', 'bo@desk', T0 - 80_000, 90_000, 'x'))
    const t = clockAndLog(api)
    const held = await takeLock(api, take('ana@laptop', t))
    expect(held.lock.holder).toBe('ana@laptop')
    // 10 s left of its TTL, then the 30 s margin.
    expect(t.clock.now).toBeGreaterThanOrEqual(T0 + 40_000)
    expect(t.clock.now).toBeLessThan(T0 + 41_000)
  })

  it('of two waiters racing for the same expired lock, one takes it and the other waits for the winner', async () => {
    const api = memorySwarm()
    place(api, newLock('shop', 'bo@desk', T0 - 130_000, 90_000, 'x'))
    const a = clockAndLog(api)
    const b = clockAndLog(api)
    const results = await Promise.allSettled([takeLock(api, take('ana@laptop', a, 5_000)), takeLock(api, take('cy@box', b, 5_000))])
    const won = results.filter(r => r.status === 'fulfilled')
    const lost = results.filter(r => r.status === 'rejected')
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    const winner = (won[0] as PromiseFulfilledResult<{ lock: { holder: string; id: string } }>).value.lock
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(LockBusy)
    expect(((lost[0] as PromiseRejectedResult).reason as Error).message).toContain(`held by ${winner.holder} since`)
    // The winner's lock is the one on the swarm: the loser removed only the expired one.
    expect((await readLock(api, 'shop'))!.id).toBe(winner.id)
    expect(api.removals).toEqual(['held-bo@desk'])
  })

  it('does not remove a lock taken over from it, and says so', async () => {
    const api = memorySwarm()
    const t = clockAndLog(api)
    const held = await takeLock(api, take('ana@laptop', t))
    api.configs.clear()
    const newer = newLock('shop', 'bo@desk', T0 + 100_000, 90_000, 'y')
    place(api, newer)
    expect(await held.release()).toEqual({
      level: 'warn',
      message: `The deploy lock of stack shop was no longer this run's (it expired or was unlocked), and is now held by bo@desk since ${newer.taken}`
    })
    expect((await readLock(api, 'shop'))!.holder).toBe('bo@desk')
  })

  it('stops with a clear error on a config of that name that is not a lock', async () => {
    const api = memorySwarm()
    api.configs.set('shop_lock', { id: 'mine', version: 1, name: 'shop_lock', labels: {}, data: Buffer.from('user data') })
    await expect(takeLock(api, take('ana@laptop', clockAndLog(api)))).rejects.toThrow(
      "a swarm config named shop_lock exists and is not swarm-deploy's deploy lock: rename or remove it (docker config rm shop_lock)"
    )
    expect(api.removals).toEqual([])
  })
})

describe('breakLock (swarm-deploy unlock)', () => {
  it('removes the lock and returns whose it was; undefined when there is none', async () => {
    const api = memorySwarm()
    place(api, newLock('shop', 'bo@desk', T0, 90_000, 'x'))
    expect((await breakLock(api, 'shop'))!.holder).toBe('bo@desk')
    expect(api.configs.size).toBe(0)
    expect(await breakLock(api, 'shop')).toBeUndefined()
  })
})

describe('the engine under the deploy lock', () => {
  it('takes the lock after the engine check, before anything changes on the swarm, and releases it at the end', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    const outcome = await runDeploy(inputsFor(), fake.host, fake.adapters, recordingReporter())
    expect(outcome.status).toBe('converged')
    const at = (effect: string): number => fake.effects.indexOf(effect)
    expect(at('info')).toBeLessThan(at(`lock ${STACK}_lock`))
    expect(at(`lock ${STACK}_lock`)).toBeLessThan(fake.effects.findIndex(e => e.startsWith('create ')))
    expect(at(`lock ${STACK}_lock`)).toBeLessThan(at('stack deploy'))
    expect(at(`unlock ${STACK}_lock`)).toBeGreaterThan(at(`label release ${STACK}_release_1 converged`))
    expect(at(`unlock ${STACK}_lock`)).toBeLessThan(at('tunnel closed'))
    expect([...fake.configs.values()].map(c => c.name)).toEqual([`${STACK}_release_1`])
  })

  it('releases it after a failed deploy too', async () => {
    const fake = fakeWorld({ scenario: 'crash' })
    fake.files.set('docker-compose.yml', COMPOSE)
    const outcome = await runDeploy(inputsFor(), fake.host, fake.adapters, recordingReporter())
    expect(outcome.status).toBe('failed')
    expect(fake.effects).toContain(`unlock ${STACK}_lock`)
    expect([...fake.configs.values()].map(c => c.name)).toEqual([`${STACK}_release_1`])
  })

  it('stops naming the holder, having deployed and recorded nothing, when another run holds it past lock-timeout', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    const other = newLock(STACK, 'https://github.com/acme/shop/actions/runs/7', fake.now(), 600_000, 'x')
    fake.configs.set('held', { id: 'held', version: 1, name: `${STACK}_lock`, labels: lockLabels(other), data: encodeLock(other) })
    const reporter = recordingReporter()
    const outcome = await runDeploy(inputsFor({ lockTimeoutMs: 15_000 }), fake.host, fake.adapters, reporter)
    expect(outcome.stopped?.kind).toBe('error')
    expect(outcome.stopped?.message).toContain(`held by https://github.com/acme/shop/actions/runs/7 since ${other.taken}`)
    expect(reporter.lines()).toContain('Waiting for the deploy lock held by https://github.com/acme/shop/actions/runs/7')
    expect(fake.effects).not.toContain('stack deploy')
    expect(fake.effects.filter(e => e.startsWith('create ') || e.startsWith('unlock'))).toEqual([])
    expect([...fake.configs.keys()]).toEqual(['held'])
  })

  it('on a cancel during the wait marks the release cancelled, then lets go of the lock', async () => {
    const fake = fakeWorld({ scenario: 'stuck' })
    fake.files.set('docker-compose.yml', COMPOSE)
    const leftovers = new RunLeftovers()
    const reporter = recordingReporter()
    let cancelled: Promise<void> | undefined
    // The front end's cancel, as the wait begins: what cleanUp runs then.
    const cancelling = {
      ...reporter,
      phase: <T>(title: string, fn: () => Promise<T>): Promise<T> => {
        if (title === 'Wait for the rollout') cancelled ??= leftovers.cleanUp()
        return reporter.phase(title, fn)
      }
    }
    await runDeploy(inputsFor(), { ...fake.host, leftovers }, fake.adapters, cancelling)
    await cancelled
    const cancelAt = fake.effects.indexOf(`label release ${STACK}_release_1 cancelled`)
    expect(cancelAt).toBeGreaterThan(fake.effects.indexOf('stack deploy'))
    expect(fake.effects.indexOf(`unlock ${STACK}_lock`)).toBeGreaterThan(cancelAt)
    expect(reporter.lines()).toContain('Release #1: cancelled')
  })

  it('a dry run takes no lock and waits for none: it says who holds one and leaves it', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    const other = newLock(STACK, 'bo@desk', fake.now(), 600_000, 'x')
    fake.configs.set('held', { id: 'held', version: 1, name: `${STACK}_lock`, labels: lockLabels(other), data: encodeLock(other) })
    const reporter = recordingReporter()
    const outcome = await runDeploy(inputsFor({ dryRun: true }), fake.host, fake.adapters, reporter)
    expect(outcome.stopped).toBeUndefined()
    expect(reporter.phases()).not.toContain('Take the deploy lock')
    expect(reporter.lines()).toContain(
      `Stack ${STACK} is locked (${STACK}_lock): held by bo@desk since ${other.taken} until ${other.expires}; a deploy now would wait for it`
    )
    expect([...fake.configs.keys()]).toEqual(['held'])
  })

  it('lasts through the smoke check too, and both rounds of rollback-stack', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    const smoke = readSmokeCheck(name => ({ 'smoke-url': 'http://127.0.0.1:1/health', 'smoke-timeout': '1m' })[name] ?? '')
    const held = await takeDeployLock(
      fake.adapters.swarmApi('/fake'),
      deployLockRequest(inputsFor({ smoke, onFailure: 'rollback-stack' })),
      fake.host,
      recordingReporter()
    )
    expect(Date.parse(held.lock.expires) - Date.parse(held.lock.taken)).toBe(2 * (60_000 + 60_000) + LOCK_MARGIN_MS)
  })

  it('marks no release cancelled once the verdict is in (the hooks are gone)', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    await runDeploy(inputsFor(), fake.host, fake.adapters, recordingReporter())
    expect(fake.cancelHooks).toEqual([])
  })
})

describe('what a killed main step left on the swarm (the post step)', () => {
  it('saves each cancel hook as data while it is registered, and nothing once the hooks have run', async () => {
    const saved: SwarmLeftover[][] = []
    const leftovers = new RunLeftovers(
      () => undefined,
      items => void saved.push(items)
    )
    const forget = leftovers.onCancel(async () => undefined, { kind: 'lock', stack: 'shop', id: 'L' })
    leftovers.onCancel(async () => undefined, { kind: 'release', stack: 'shop', id: 'R' })
    forget()
    await leftovers.cleanUp()
    expect(saved).toEqual([
      [{ kind: 'lock', stack: 'shop', id: 'L' }],
      [
        { kind: 'lock', stack: 'shop', id: 'L' },
        { kind: 'release', stack: 'shop', id: 'R' }
      ],
      [{ kind: 'release', stack: 'shop', id: 'R' }],
      []
    ])
  })

  it('marks a release still deploying cancelled and removes that very lock; leaves a settled record and a newer lock alone', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    await runDeploy(inputsFor(), fake.host, fake.adapters, recordingReporter())
    const converged = [...fake.configs.values()].find(c => c.name === `${STACK}_release_1`)!
    const deploying = {
      ...converged,
      id: 'r2',
      name: `${STACK}_release_2`,
      labels: { ...converged.labels, 'io.swarm-deploy.release': '2', 'io.swarm-deploy.release.status': 'deploying' }
    }
    deploying.data = Buffer.from(JSON.stringify({ ...JSON.parse(converged.data.toString('utf8')), number: 2 }))
    fake.configs.set('r2', deploying)
    const lock = newLock(STACK, 'https://github.com/acme/shop/actions/runs/9', fake.now(), 90_000, 'x')
    fake.configs.set('L', { id: 'L', version: 1, name: `${STACK}_lock`, labels: lockLabels(lock), data: encodeLock(lock) })
    const api = fake.adapters.swarmApi('/fake')
    const lines = await settleLeftovers(api, [
      { kind: 'lock', stack: STACK, id: 'L' },
      { kind: 'release', stack: STACK, id: 'r2' },
      { kind: 'release', stack: STACK, id: converged.id }
    ])
    expect(lines).toEqual([`Release #2 of stack ${STACK}: cancelled`, `Released the deploy lock of stack ${STACK}`])
    expect(fake.configs.get('r2')!.labels['io.swarm-deploy.release.status']).toBe('cancelled')
    expect(fake.configs.get(converged.id)!.labels['io.swarm-deploy.release.status']).toBe('converged')
    expect(fake.configs.has('L')).toBe(false)

    // A lock of the same name taken since by another run is not the one left.
    fake.configs.set('L2', { id: 'L2', version: 1, name: `${STACK}_lock`, labels: lockLabels(lock), data: encodeLock(lock) })
    expect(await settleLeftovers(api, [{ kind: 'lock', stack: STACK, id: 'L' }])).toEqual([])
    expect(fake.configs.has('L2')).toBe(true)
  })
})

describe('lock-timeout', () => {
  const context = { env: {}, isFile: () => true, readFile: () => '' }
  const read =
    (values: Record<string, string>) =>
    (name: string): string =>
      ({ stack: 'shop', ...values })[name] ?? ''

  it('is 5m by default and parsed like the other durations', () => {
    expect(getInputs(read({}), context).lockTimeoutMs).toBe(300_000)
    expect(getInputs(read({ 'lock-timeout': '90s' }), context).lockTimeoutMs).toBe(90_000)
    expect(() => getInputs(read({ 'lock-timeout': '5 parsecs' }), context)).toThrow("lock-timeout: '5 parsecs' is not a duration like 90s, 5m or 1h")
  })
})

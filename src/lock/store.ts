// Taking, waiting for and letting go of a stack's deploy lock through the
// Engine API. The create is the only arbiter: a waiter that finds the lock
// expired removes that config by its ID (never by name) and then races for
// the create like anyone else, so of two waiters that saw the same expired
// lock one takes it and the other finds the winner's fresh lock and waits.
// A holder renews its lock with a label update, which the manager stamps
// (UpdatedAt); a waiter judges it by the swarm's clock (lock.ts).
import type { SwarmApi } from '../ports.js'
import type { Lock } from './lock.js'
import {
  decodeLock,
  describeHolder,
  encodeLock,
  isExpired,
  LOCK_LABEL,
  lockLabels,
  lockName,
  newLock,
  nextPollMs,
  renewedLabels,
  shouldReport,
  SKEW_MARGIN_MS,
  takeoverAt
} from './lock.js'

export type LockApi = Pick<SwarmApi, 'listConfigs' | 'createConfig' | 'removeObject' | 'setConfigLabels' | 'info'>

/** The lock stayed held by another run for the whole lock-timeout; nothing was changed. */
export class LockBusy extends Error {
  override name = 'LockBusy'
}

export interface TakeLock {
  stack: string
  holder: string
  /** How long the lock lasts if this run dies (lockTtlMs). */
  ttlMs: number
  /** lock-timeout: how long to wait for another holder. */
  waitMs: number
  token: string
  now(): number
  sleep(ms: number): Promise<void>
  log: { info(line: string): void; warn(line: string): void }
}

export interface Released {
  level: 'info' | 'warn'
  message: string
}

/** A renewal: done, the lock is another run's or gone (lost), or the swarm could not be asked (failed; the next one may succeed). */
export type Renewal = { kind: 'renewed' } | { kind: 'lost'; message: string } | { kind: 'failed'; message: string }

export interface HeldLock {
  lock: Lock
  /** Removes the lock if it is still this run's; never throws. Returns what happened, for the log. */
  release(): Promise<Released>
  /** Moves the lock's expiry on, if it is still this run's; never throws. */
  renew(): Promise<Renewal>
}

/** The stack's deploy lock, if any. */
export async function readLock(api: Pick<SwarmApi, 'listConfigs'>, stack: string): Promise<Lock | undefined> {
  const found = (await api.listConfigs({ [LOCK_LABEL]: stack })).find(c => c.name === lockName(stack))
  if (!found) return undefined
  // Ours by name and label but unreadable: no expiry to respect, so it counts as expired.
  return (
    decodeLock(found) ?? {
      format: 1,
      stack,
      holder: 'an unreadable lock',
      taken: 'an unknown time',
      expires: '',
      token: '',
      id: found.id,
      version: found.version,
      ttlMs: Number.NaN
    }
  )
}

/** The swarm's clock (a manager's /info SystemTime), only needed for a lock the swarm stamped. */
async function swarmNow(api: Pick<LockApi, 'info'>, lock: Lock): Promise<number | undefined> {
  return lock.renewedAt === undefined ? undefined : (await api.info()).systemTime
}

/** Removes this lock by its ID (a newer lock of the same name stays); fine if someone else removed it first. */
async function removeLock(api: LockApi, lock: Lock): Promise<void> {
  try {
    await api.removeObject('config', lock.id)
  } catch (error) {
    // Removed meanwhile (its holder let go, or another waiter took it over): that is what we wanted.
    if ((await readLock(api, lock.stack))?.id === lock.id) throw error
  }
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)}s`

/** Takes the stack's lock, waiting up to `waitMs` for another holder; throws LockBusy naming the holder when it does not get it. */
export async function takeLock(api: LockApi, take: TakeLock): Promise<HeldLock> {
  const { stack, log, now } = take
  const began = now()
  const deadline = began + take.waitMs
  let reported: { id: string; at: number } | undefined
  let waitedFor: Lock | undefined
  let unexplained = 0
  for (let attempt = 0; ;) {
    const data = newLock(stack, take.holder, now(), take.ttlMs, take.token)
    if ((await api.createConfig(lockName(stack), encodeLock(data), lockLabels(data))) === 'created') {
      const lock = await readLock(api, stack)
      if (lock?.token !== take.token) throw new Error(`the deploy lock ${lockName(stack)} was created but cannot be read back`)
      log.info(
        `Took the deploy lock of stack ${stack} (config ${lockName(stack)}) until ${lock.expires}` +
          (waitedFor ? `, after waiting ${seconds(now() - began)} for ${waitedFor.holder}` : '')
      )
      return { lock, release: () => releaseLock(api, lock), renew: () => renewLock(api, lock, now()) }
    }
    const lock = await readLock(api, stack)
    if (!lock) {
      // Released between the create and the read: try again at once. A config of that name that is not a lock never goes away.
      if (++unexplained >= 3)
        throw new Error(
          `a swarm config named ${lockName(stack)} exists and is not swarm-deploy's deploy lock: rename or remove it (docker config rm ${lockName(stack)})`
        )
      continue
    }
    unexplained = 0
    const swarmTime = await swarmNow(api, lock)
    if (isExpired(lock, now(), swarmTime)) {
      log.warn(`The deploy lock held by ${describeHolder(lock)} ${howExpired(lock, swarmTime)}: taking it over`)
      await removeLock(api, lock)
      continue
    }
    waitedFor = lock
    if (now() >= deadline) {
      throw new LockBusy(
        `stack ${stack} is locked by another deploy: the deploy lock is held by ${describeHolder(lock)} (until ${lock.expires}); gave up after lock-timeout ${seconds(take.waitMs)}. Nothing was changed. If that run is gone, \`swarm-deploy unlock --stack ${stack}\` removes the lock.`
      )
    }
    if (shouldReport(lock, reported, now())) {
      log.info(
        `Waiting for the deploy lock held by ${describeHolder(lock)} (it expires at ${lock.expires}; waited ${seconds(now() - began)} of lock-timeout ${seconds(take.waitMs)})`
      )
      reported = { id: lock.id, at: now() }
    }
    // Wake just after the takeover time, whichever clock it is on.
    const { at, clock } = takeoverAt(lock, swarmTime)
    const wake = clock === 'swarm' ? now() + (at - swarmTime!) : at
    await take.sleep(nextPollMs(attempt++, now(), deadline, wake))
  }
}

const iso = (ms: number): string => new Date(ms).toISOString()

function howExpired(lock: Lock, swarmTime: number | undefined): string {
  if (lock.renewedAt === undefined || swarmTime === undefined) return `expired at ${lock.expires || 'an unknown time'}`
  if (Number.isNaN(lock.ttlMs)) return `has no TTL one can read (last renewed at ${iso(lock.renewedAt)})`
  return `was last renewed at ${iso(lock.renewedAt)} and expired at ${iso(lock.renewedAt + lock.ttlMs)} by the swarm's clock (its TTL of ${seconds(lock.ttlMs)}, and ${seconds(SKEW_MARGIN_MS)} more for clocks that differ, have passed)`
}

/** Renews this very lock (by ID, at its current version); `now` is the holder's clock, for the expiry label people read. */
async function renewLock(api: LockApi, lock: Lock, now: number): Promise<Renewal> {
  try {
    const current = await readLock(api, lock.stack)
    if (current?.id !== lock.id) {
      const whose = current ? `it is held by ${describeHolder(current)}` : 'it is gone'
      return {
        kind: 'lost',
        message: `The deploy lock of stack ${lock.stack} is no longer this run's: ${whose} (taken over, or removed with swarm-deploy unlock, while this run held it). Another deploy of the stack may be running at the same time as this one.`
      }
    }
    await api.setConfigLabels({ id: current.id, version: current.version, name: lockName(current.stack) }, renewedLabels(current, now))
    return { kind: 'renewed' }
  } catch (error) {
    return {
      kind: 'failed',
      message: `Could not renew the deploy lock of stack ${lock.stack} (another run may take it over ${seconds(lock.ttlMs + SKEW_MARGIN_MS)} after its last renewal): ${(error as Error).message}`
    }
  }
}

async function releaseLock(api: LockApi, lock: Lock): Promise<Released> {
  try {
    const current = await readLock(api, lock.stack)
    if (current?.id !== lock.id) {
      const message = current
        ? `The deploy lock of stack ${lock.stack} was no longer this run's (it expired or was unlocked), and is now held by ${describeHolder(current)}`
        : `The deploy lock of stack ${lock.stack} was already removed (swarm-deploy unlock?)`
      return { level: 'warn', message }
    }
    await removeLock(api, lock)
    return { level: 'info', message: `Released the deploy lock of stack ${lock.stack}` }
  } catch (error) {
    return { level: 'warn', message: `Could not release the deploy lock of stack ${lock.stack} (it expires at ${lock.expires}): ${(error as Error).message}` }
  }
}

/** `swarm-deploy unlock`: removes the stack's lock whoever holds it; returns the lock it removed, if there was one. */
export async function breakLock(api: LockApi, stack: string): Promise<Lock | undefined> {
  const lock = await readLock(api, stack)
  if (lock) await removeLock(api, lock)
  return lock
}

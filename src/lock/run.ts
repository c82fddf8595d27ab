// The deploy lock as a run holds it: taken with the run's holder text and
// expiry, renewed while the run lasts (its diagnostics, a rollback-stack's
// second round, whatever outlasts the TTL), let go of at the end, and on a
// cancel through the front end's cancel hook (Host.leftovers.onCancel), so a
// cancelled run does not leave the next deployer waiting for the expiry.
import { randomBytes } from 'node:crypto'
import type { Inputs } from '../inputs/inputs.js'
import type { Host, Reporter } from '../ports.js'
import { describeHolder, holderOf, lockName, lockTtlMs, renewEveryMs } from './lock.js'
import type { HeldLock, LockApi, Renewal } from './store.js'
import { readLock, takeLock } from './store.js'

/** Runs `fn` every `ms` until the returned stop; the timer never keeps the process alive. */
function every(ms: number, fn: () => void): () => void {
  const timer = setInterval(fn, ms)
  timer.unref()
  return () => clearInterval(timer)
}

/** What taking the lock needs: whose, for how long it may be held unrenewed, how long to wait for another holder. */
export interface LockRequest {
  stack: string
  ttlMs: number
  waitMs: number
}

/** A deploy holds the lock for its whole round: the rollout, then the smoke check, twice with rollback-stack. */
export function deployLockRequest(inputs: Pick<Inputs, 'stack' | 'timeoutMs' | 'onFailure' | 'lockTimeoutMs' | 'smoke'>): LockRequest {
  // The smoke check runs after the rollout's deadline, with a deadline of its own.
  const ttlMs = lockTtlMs(inputs.timeoutMs + (inputs.smoke?.timeoutMs ?? 0), inputs.onFailure)
  return { stack: inputs.stack, ttlMs, waitMs: inputs.lockTimeoutMs }
}

export async function takeDeployLock(
  api: LockApi,
  request: LockRequest,
  host: Pick<Host, 'env' | 'hostname' | 'now' | 'sleep' | 'leftovers'>,
  reporter: Pick<Reporter, 'info' | 'warn'>
): Promise<HeldLock> {
  const { stack, ttlMs, waitMs } = request
  const held = await takeLock(api, {
    stack,
    holder: holderOf(host.env, host.hostname ?? ''),
    ttlMs,
    waitMs,
    token: randomBytes(8).toString('hex'),
    now: () => host.now(),
    sleep: ms => host.sleep(ms),
    log: { info: line => reporter.info(line), warn: line => reporter.warn(line) }
  })
  // One renewal at a time; a lost lock is said once and renewed no more, a failed renewal is tried again next time.
  let renewing = false
  let stopped = false
  const renew = async (): Promise<Renewal> => {
    // Nothing to do: a renewal is under way, or the lock was let go of.
    if (renewing || stopped) return { kind: 'renewed' }
    renewing = true
    try {
      const renewal = await held.renew()
      if (stopped) return renewal
      if (renewal.kind === 'lost') stop()
      if (renewal.kind !== 'renewed') reporter.warn(renewal.message)
      return renewal
    } finally {
      renewing = false
    }
  }
  // A renewal never throws; a reporter that did must not end the process from a timer.
  const stopTimer = every(renewEveryMs(ttlMs), () => void renew().catch(() => undefined))
  const stop = (): void => {
    stopped = true
    stopTimer()
  }
  let released: ReturnType<HeldLock['release']> | undefined
  const release = (): ReturnType<HeldLock['release']> => {
    stop()
    return (released ??= held.release())
  }
  const forget = host.leftovers.onCancel?.(() => release().then(({ level, message }) => reporter[level](message)), {
    kind: 'lock',
    stack,
    id: held.lock.id
  })
  return {
    lock: held.lock,
    release: () => {
      forget?.()
      return release()
    },
    renew
  }
}

/** A dry run takes no lock; it says who holds one, since the deploy it previews would wait for them. */
export async function noteDeployLock(api: Pick<LockApi, 'listConfigs'>, stack: string, reporter: Pick<Reporter, 'info'>): Promise<void> {
  const lock = await readLock(api, stack)
  if (lock)
    reporter.info(`Stack ${stack} is locked (${lockName(stack)}): held by ${describeHolder(lock)} until ${lock.expires}; a deploy now would wait for it`)
}

// The deploy lock as a run holds it: taken with the run's holder text and
// expiry, let go of at the end, and on a cancel through the front end's
// cancel hook (Host.leftovers.onCancel), so a cancelled run does not leave
// the next deployer waiting for the expiry.
import { randomBytes } from 'node:crypto'
import type { Inputs } from '../inputs/inputs.js'
import type { Host, Reporter } from '../ports.js'
import { holderOf, lockTtlMs } from './lock.js'
import type { HeldLock, LockApi } from './store.js'
import { takeLock } from './store.js'

export async function takeDeployLock(
  api: LockApi,
  inputs: Pick<Inputs, 'stack' | 'timeoutMs' | 'onFailure' | 'lockTimeoutMs'>,
  host: Pick<Host, 'env' | 'hostname' | 'now' | 'sleep' | 'leftovers'>,
  reporter: Pick<Reporter, 'info' | 'warn'>
): Promise<HeldLock> {
  const held = await takeLock(api, {
    stack: inputs.stack,
    holder: holderOf(host.env, host.hostname ?? ''),
    ttlMs: lockTtlMs(inputs.timeoutMs, inputs.onFailure),
    waitMs: inputs.lockTimeoutMs,
    token: randomBytes(8).toString('hex'),
    now: () => host.now(),
    sleep: ms => host.sleep(ms),
    log: { info: line => reporter.info(line), warn: line => reporter.warn(line) }
  })
  let released: ReturnType<HeldLock['release']> | undefined
  const release = (): ReturnType<HeldLock['release']> => (released ??= held.release())
  const forget = host.leftovers.onCancel?.(() => release().then(({ level, message }) => reporter[level](message)), {
    kind: 'lock',
    stack: inputs.stack,
    id: held.lock.id
  })
  return {
    lock: held.lock,
    release: () => {
      forget?.()
      return release()
    }
  }
}

// What a cancel hook would have done on the swarm, done later from its data
// (SwarmLeftover): by the Action's post step, after a main step killed
// outright before its hooks could run. Each item is settled only if it is
// still as the main step left it: a release record still `deploying`, a
// lock with that very config ID.
import { decodeLock, LOCK_LABEL } from '../lock/lock.js'
import type { ReleaseKeys } from '../release/proof.js'
import { NO_KEYS } from '../release/proof.js'
import { decodeRelease, RELEASE_LABEL } from '../release/record.js'
import { setStatus } from '../release/store.js'
import type { SwarmApi, SwarmLeftover } from '../ports.js'
import { STACK_LABEL } from './model.js'

type Api = Pick<SwarmApi, 'listConfigs' | 'createConfig' | 'setConfigLabels' | 'removeObject'>

/**
 * Settles each item; returns a line per item for the log. Releases first, so the next deployer sees the final record.
 * A release's ID comes from the main step's own state and its data cannot change, so its new status is signed with `keys`.
 */
export async function settleLeftovers(api: Api, items: SwarmLeftover[], keys: ReleaseKeys = NO_KEYS): Promise<string[]> {
  const lines: string[] = []
  for (const item of [...items].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'release' ? -1 : 1))) {
    if (item.kind === 'release') {
      const stored = (await api.listConfigs({ [STACK_LABEL]: item.stack, [RELEASE_LABEL]: '' })).find(c => c.id === item.id)
      const release = stored && decodeRelease(stored)
      if (!release || release.status !== 'deploying') continue
      await setStatus(api, release, 'cancelled', keys)
      lines.push(`Release #${release.number} of stack ${item.stack}: cancelled`)
    } else {
      const stored = (await api.listConfigs({ [LOCK_LABEL]: item.stack })).find(c => c.id === item.id)
      if (!stored || !decodeLock(stored)) continue
      await api.removeObject('config', stored.id)
      lines.push(`Released the deploy lock of stack ${item.stack}`)
    }
  }
  return lines
}

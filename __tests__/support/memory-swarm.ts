// An in-memory swarm for the deploy lock: configs by name, created
// atomically (409 as 'exists'), as swarmkit's store does; labels that only
// change at the config's version; and the manager's own clock, which stamps
// UpdatedAt and answers /info's SystemTime, apart from any runner's clock.
import type { EngineInfo, StoredConfig } from '../../src/ports.js'
import type { LockApi } from '../../src/lock/store.js'
import { encodeLock, lockLabels, lockName, type LockData } from '../../src/lock/lock.js'

export interface MemorySwarm extends LockApi {
  configs: Map<string, StoredConfig>
  removals: string[]
  /** Label updates, by config ID. */
  labelUpdates: string[]
  /** The manager's clock (ms); configs are stamped with it. */
  clock: { now: number }
  /** Makes every call fail with this error until cleared. */
  failing?: Error
  info(): Promise<EngineInfo>
  setConfigLabels(config: Pick<StoredConfig, 'id' | 'version' | 'name'>, labels: Record<string, string>): Promise<void>
}

/** Every call yields first, so concurrent callers interleave. */
export function memorySwarm(managerNow = Date.parse('2026-12-01T20:00:00.000Z')): MemorySwarm {
  const configs = new Map<string, StoredConfig>()
  let ids = 0
  const tick = (): Promise<void> => new Promise(resolve => setImmediate(resolve))
  const stamp = (): string => new Date(swarm.clock.now).toISOString()
  const call = async (): Promise<void> => {
    await tick()
    if (swarm.failing) throw swarm.failing
  }
  const swarm: MemorySwarm = {
    configs,
    removals: [],
    labelUpdates: [],
    clock: { now: managerNow },
    async info() {
      await call()
      return { serverVersion: '28.0.0', isManager: true, swarmState: 'active', clusterId: 'cluster-a', systemTime: swarm.clock.now } as EngineInfo
    },
    async listConfigs(labels) {
      await call()
      return [...configs.values()].filter(c => Object.entries(labels).every(([k, v]) => (v === '' ? k in c.labels : c.labels[k] === v)))
    },
    async createConfig(name, data, labels) {
      await call()
      if (configs.has(name)) return 'exists'
      configs.set(name, { id: `id${++ids}`, version: 1, name, labels, data, updatedAt: stamp() } as StoredConfig)
      return 'created'
    },
    async setConfigLabels(config, labels) {
      await call()
      const found = [...configs.values()].find(c => c.id === config.id)
      if (!found) throw Object.assign(new Error(`config ${config.id} not found`), { statusCode: 404 })
      if (found.version !== config.version) throw Object.assign(new Error('update out of sequence'), { statusCode: 500 })
      swarm.labelUpdates.push(config.id)
      configs.set(found.name, { ...found, version: found.version + 1, labels, updatedAt: stamp() } as StoredConfig)
    },
    async removeObject(_kind, id) {
      await call()
      const found = [...configs.values()].find(c => c.id === id)
      if (!found) throw Object.assign(new Error(`config ${id} not found`), { statusCode: 404 })
      swarm.removals.push(id)
      configs.delete(found.name)
    }
  }
  return swarm
}

/** Another run's lock, put on the swarm as it created it when it took it (clocks agreeing), or last renewed it at `updatedAt` (the swarm's clock). */
export function place(api: MemorySwarm, data: LockData, updatedAt = Date.parse(data.taken)): string {
  const id = `held-${data.holder}`
  const at = new Date(updatedAt).toISOString()
  api.configs.set(lockName(data.stack), {
    id,
    version: 1,
    name: lockName(data.stack),
    labels: lockLabels(data),
    data: encodeLock(data),
    updatedAt: at
  } as StoredConfig)
  return id
}

// The Engine API through the tunnel's socket (src/swarm/api.ts), in the
// Engine API's own objects (src/swarm/model.ts).
import type { ResourceAmounts, Service, Snapshot, Task } from '../swarm/model.js'

export interface EngineInfo {
  serverVersion: string
  isManager: boolean
  swarmState: string
  /** The swarm's cluster ID (GET /swarm's ID, also in /info on a manager); only managers know it. */
  clusterId: string | undefined
  /** The engine's clock (SystemTime), in ms: the deploy lock is judged by the swarm's clock, not the runner's. */
  systemTime?: number
}

export interface SwarmApi {
  info(): Promise<EngineInfo>
  /** The stack's services (only those of `serviceIds`, when given), their tasks, and the nodes. */
  snapshot(stack: string, serviceIds?: string[]): Promise<Snapshot>
  /** What the tasks of every service reserve on each node (CPU, memory), by node ID: see src/converge/capacity.ts. */
  reservations(): Promise<Record<string, ResourceAmounts>>
  /** The last `tail` log lines of a task since `sinceSeconds` (Unix time), bounded by `timeoutMs`. */
  taskLogs(taskId: string, sinceSeconds: number, tail: number, timeoutMs: number): Promise<Buffer>
  /** Ask Swarm to roll a service back to its previous spec (`docker service rollback`). */
  rollback(serviceId: string): Promise<void>
  /** Create a secret or config unless one of that name exists (names carry a content hash). */
  ensureObject(kind: 'secret' | 'config', name: string, data: Buffer, stack: string): Promise<'created' | 'exists'>
  /** The stack's secrets and configs. */
  listObjects(stack: string): Promise<Array<{ kind: 'secret' | 'config'; id: string; name: string }>>
  removeObject(kind: 'secret' | 'config', id: string): Promise<void>
  /** Configs with every one of these labels (a label given as '' only needs to be there), with their data. */
  listConfigs(labels: Record<string, string>): Promise<StoredConfig[]>
  /** Create a config with labels; 'exists' when the name is taken. */
  createConfig(name: string, data: Buffer, labels: Record<string, string>): Promise<'created' | 'exists'>
  /** Replace a config's labels (the only thing Swarm lets change). */
  setConfigLabels(config: Pick<StoredConfig, 'id' | 'version' | 'name'>, labels: Record<string, string>): Promise<void>
  /**
   * One service as GET /services/{id} gives it: the API's JSON whole (the
   * model's type names only the fields read), so its Spec can go back as it is.
   */
  readService(serviceId: string): Promise<Service>
  /**
   * POST /services/{id}/update with `spec` and the `version` it was read at,
   * and a registry credential in the X-Registry-Auth header, as `docker
   * service update --with-registry-auth` sends it. Swarm's warnings.
   */
  updateRegistryAuth(serviceId: string, version: number, spec: Service['Spec'], registryAuth: string): Promise<string[]>
  /**
   * POST /services/{id}/update with `spec` and the `version` it was read at,
   * without a registry credential: Swarm keeps the one the service has
   * (`docker service update` without --with-registry-auth). Swarm's warnings.
   */
  updateService(serviceId: string, version: number, spec: Service['Spec']): Promise<string[]>
  /** The engine's networks (service specs name theirs by ID), with the subnets they hold; the manager's own local ones too. */
  networks(): Promise<NetworkSubnets[]>
  /** The swarm's default address pool and subnet size (GET /info), or Docker's defaults where it does not say. */
  addressPool(): Promise<AddressPool>
  /** Every service, task and node of the swarm, not only a stack's (prune-images: which images anything needs). */
  wholeSwarm(): Promise<Snapshot>
  /** The tasks of one service, whatever its labels (a job the run started). */
  serviceTasks(serviceId: string): Promise<Task[]>
  /** API calls made so far (for benchmarks and logs). */
  calls(): number
  close(): void
}

/** The swarm's default address pool, as `docker swarm init --default-addr-pool` set it. */
export interface AddressPool {
  /** CIDRs, in the order the swarm's allocator walks them. */
  pools: string[]
  /** The prefix length of each subnet handed out (`--default-addr-pool-mask-length`). */
  size: number
  /** True when /info did not say (an engine before API 1.39, or not a manager): Docker's own defaults. */
  defaulted: boolean
}

/** A network as GET /networks lists it, with the subnets it holds. */
export interface NetworkSubnets {
  id: string
  name: string
  /** `swarm` for a swarm's networks, `local` for a node's own (bridge, docker_gwbridge). */
  scope: string
  driver: string
  labels: Record<string, string>
  subnets: string[]
}

export interface StoredConfig {
  id: string
  version: number
  name: string
  labels: Record<string, string>
  data: Buffer
  /** When a manager last stamped it (created, labels changed), by the swarm's clock. */
  updatedAt?: string
}

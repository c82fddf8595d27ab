// The seam to the Engine API, through the tunnel socket. One poll cycle is
// three calls whatever the stack size: services by stack label, their tasks
// in one filtered list, and the nodes.
import createDebug from 'debug'
import Docker from 'dockerode'
import * as http from 'node:http'
import type { Node, Service, Snapshot, Task } from './model.js'
import { STACK_LABEL } from './model.js'

/** An Engine API filter for what belongs to one stack. */
const stackFilter = (stack: string): string => JSON.stringify({ label: [`${STACK_LABEL}=${stack}`] })

export interface EngineInfo {
  serverVersion: string
  isManager: boolean
  swarmState: string
  /** The swarm's cluster ID (GET /swarm's ID, also in /info on a manager); only managers know it. */
  clusterId: string | undefined
}

export interface SwarmApi {
  info(): Promise<EngineInfo>
  /** The stack's services (only those of `serviceIds`, when given), their tasks, and the nodes. */
  snapshot(stack: string, serviceIds?: string[]): Promise<Snapshot>
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
  /** The engine's networks, ID and name (service specs name theirs by ID). */
  networks(): Promise<Array<{ id: string; name: string }>>
  /** API calls made so far (for benchmarks and logs). */
  calls(): number
  close(): void
}

export interface StoredConfig {
  id: string
  version: number
  name: string
  labels: Record<string, string>
  data: Buffer
}

const REQUEST_TIMEOUT_MS = 30_000

/**
 * docker-modem logs every request and reply through the `debug` module, as
 * `modem`, whenever DEBUG names it (DEBUG=* in a job is enough): service
 * specs with their env values and secret bodies, unredacted, several times a
 * second. That namespace stays off whatever DEBUG says; any other keeps its
 * setting.
 */
function silenceModem(): void {
  if (!createDebug.enabled('modem')) return
  const job = process.env.DEBUG
  createDebug.enable(`${createDebug.disable()},-modem`)
  // enable() also writes DEBUG into process.env, which children inherit: keep the job's own.
  if (job === undefined) delete process.env.DEBUG
  else process.env.DEBUG = job
}

export function dockerodeApi(socketPath: string): SwarmApi {
  silenceModem()
  // Keep-alive: each new connection costs a `dial-stdio` process on the manager.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
  const docker = new Docker({ socketPath, timeout: REQUEST_TIMEOUT_MS, agent } as Docker.DockerOptions)
  let calls = 0
  const counted = <T>(promise: Promise<T>): Promise<T> => {
    calls += 1
    return promise
  }
  return {
    async info() {
      type Info = { ServerVersion?: string; Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; Cluster?: { ID?: string } | null } }
      const info = (await counted(docker.info())) as Info
      const isManager = info.Swarm?.ControlAvailable === true
      let clusterId = info.Swarm?.Cluster?.ID || undefined
      if (isManager && clusterId === undefined) clusterId = ((await counted(docker.swarmInspect())) as { ID?: string }).ID || undefined
      return {
        serverVersion: info.ServerVersion ?? 'unknown',
        isManager,
        swarmState: info.Swarm?.LocalNodeState ?? 'unknown',
        clusterId
      }
    },
    async snapshot(stack, serviceIds) {
      // The engine matches IDs by prefix, and all are the same length: a full ID matches only itself.
      // An empty list would be no filter at all, so asking for no service lists none.
      if (serviceIds?.length === 0) return { services: [], tasks: [], nodes: (await counted(docker.listNodes())) as unknown as Node[] }
      const filters = serviceIds === undefined ? stackFilter(stack) : JSON.stringify({ label: [`${STACK_LABEL}=${stack}`], id: serviceIds })
      const [services, nodes] = await Promise.all([
        counted(docker.listServices({ filters }) as Promise<unknown>) as Promise<Service[]>,
        counted(docker.listNodes()) as unknown as Promise<Node[]>
      ])
      const ids = services.map(s => s.ID)
      const tasks = ids.length === 0 ? [] : ((await counted(docker.listTasks({ filters: JSON.stringify({ service: ids }) }) as Promise<unknown>)) as Task[])
      return { services, tasks, nodes }
    },
    async taskLogs(taskId, sinceSeconds, tail, timeoutMs) {
      const task = docker.getTask(taskId) as unknown as { logs(opts: object): Promise<Buffer> }
      return (await counted(
        task.logs({ stdout: true, stderr: true, follow: false, since: sinceSeconds, tail, timestamps: false, abortSignal: AbortSignal.timeout(timeoutMs) })
      )) as Buffer
    },
    async rollback(serviceId) {
      const service = docker.getService(serviceId)
      const current = (await counted(service.inspect())) as { Version: { Index: number }; Spec: object }
      // The API's rollback takes the current spec and version, like the CLI sends.
      await counted(service.update({ _query: { version: current.Version.Index, rollback: 'previous' }, _body: current.Spec } as never))
    },
    async ensureObject(kind, name, data, stack) {
      // The value travels only in this request body, base64 as the API wants it.
      const spec = { Name: name, Data: data.toString('base64'), Labels: { [STACK_LABEL]: stack } }
      try {
        await counted(kind === 'secret' ? docker.createSecret(spec) : docker.createConfig(spec))
        return 'created'
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 409) return 'exists'
        throw error
      }
    },
    async listObjects(stack) {
      type Named = Array<{ ID: string; Spec: { Name: string } }>
      const filters = stackFilter(stack)
      const [secrets, configs] = (await Promise.all([counted(docker.listSecrets({ filters })), counted(docker.listConfigs({ filters }))])) as unknown as [
        Named,
        Named
      ]
      return [
        ...secrets.map(s => ({ kind: 'secret' as const, id: s.ID, name: s.Spec.Name })),
        ...configs.map(c => ({ kind: 'config' as const, id: c.ID, name: c.Spec.Name }))
      ]
    },
    async removeObject(kind, id) {
      await counted(kind === 'secret' ? docker.getSecret(id).remove() : docker.getConfig(id).remove())
    },
    async listConfigs(labels) {
      const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => (v === '' ? k : `${k}=${v}`)) })
      type Raw = Array<{ ID: string; Version: { Index: number }; Spec: { Name: string; Labels?: Record<string, string>; Data?: string } }>
      const configs = (await counted(docker.listConfigs({ filters }))) as unknown as Raw
      return configs.map(c => ({
        id: c.ID,
        version: c.Version.Index,
        name: c.Spec.Name,
        labels: c.Spec.Labels ?? {},
        data: Buffer.from(c.Spec.Data ?? '', 'base64')
      }))
    },
    async createConfig(name, data, labels) {
      try {
        await counted(docker.createConfig({ Name: name, Data: data.toString('base64'), Labels: labels }))
        return 'created'
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 409) return 'exists'
        throw error
      }
    },
    async setConfigLabels(config, labels) {
      // Swarm refuses any change but to labels; the data is left out of the spec.
      const update = docker.getConfig(config.id) as unknown as { update(opts: object): Promise<unknown> }
      await counted(update.update({ _query: { version: config.version }, _body: { Name: config.name, Labels: labels } }))
    },
    async readService(serviceId) {
      return (await counted(docker.getService(serviceId).inspect())) as Service
    },
    async updateRegistryAuth(serviceId, version, spec, registryAuth) {
      // docker-modem sends `key` as the header's value, verbatim; nothing of it is logged (silenceModem).
      const service = docker.getService(serviceId) as unknown as { update(auth: object, opts: object): Promise<{ Warnings?: string[] | null } | undefined> }
      const answer = await counted(service.update({ key: registryAuth }, { _query: { version }, _body: spec }))
      return answer?.Warnings ?? []
    },
    async networks() {
      const listed = (await counted(docker.listNetworks())) as Array<{ Id: string; Name: string }>
      return listed.map(n => ({ id: n.Id, name: n.Name }))
    },
    calls: () => calls,
    close: () => agent.destroy()
  }
}

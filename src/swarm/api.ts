// The seam to the Engine API, through the tunnel socket. One poll cycle is
// three calls whatever the stack size: services by stack label, their tasks
// in one filtered list, and the nodes. Plain node:http: the few JSON calls
// made here need no client library, and dockerode would bring its BuildKit
// (gRPC, protobuf) code into the bundle, and docker-modem's debug channel,
// which logs request bodies (secret values) when DEBUG names it.
import * as http from 'node:http'
import type { Node, Service, Task } from './model.js'
import { STACK_LABEL } from './model.js'
import type { SwarmApi } from '../ports.js'
import { addressPoolOf, networkSubnetsOf } from './networks.js'
import { reservationsOf } from '../converge/capacity.js'

/** An Engine API filter for what belongs to one stack. */
const stackFilter = (stack: string): string => JSON.stringify({ label: [`${STACK_LABEL}=${stack}`] })

const REQUEST_TIMEOUT_MS = 30_000

/** The engine answered with an error status; `statusCode` is that status. */
export class EngineApiError extends Error {
  override name = 'EngineApiError'
  constructor(
    readonly statusCode: number,
    message: string
  ) {
    super(message)
  }
}

interface EngineRequest {
  method?: 'GET' | 'POST' | 'DELETE'
  path: string
  query?: Record<string, string | number | boolean>
  body?: unknown
  /** Extra request headers (X-Registry-Auth); never logged. */
  headers?: Record<string, string>
  /** The reply body as it came, not parsed as JSON (task logs). */
  raw?: boolean
  timeoutMs?: number
}

/**
 * One Engine API request over the tunnel socket, with node's own HTTP client:
 * unversioned paths (the engine's own API version), JSON in and out. A reply
 * that is not 2xx is an EngineApiError with the engine's message.
 */
function requester(socketPath: string, agent: http.Agent) {
  return <T>(request: EngineRequest): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const query = request.query ? `?${new URLSearchParams(Object.entries(request.query).map(([k, v]): [string, string] => [k, String(v)])).toString()}` : ''
      const body = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body))
      const method = request.method ?? 'GET'
      const req = http.request(
        {
          socketPath,
          agent,
          method,
          path: `${request.path}${query}`,
          headers: { Host: 'docker', ...request.headers, ...(body ? { 'Content-Type': 'application/json', 'Content-Length': body.length } : {}) },
          signal: AbortSignal.timeout(request.timeoutMs ?? REQUEST_TIMEOUT_MS)
        },
        res => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('error', reject)
          res.on('end', () => {
            const data = Buffer.concat(chunks)
            const status = res.statusCode ?? 0
            if (status < 200 || status > 299) {
              let message = data.toString('utf8').trim()
              try {
                message = (JSON.parse(message) as { message?: string }).message ?? message
              } catch {
                // not JSON: the text as it came
              }
              return reject(new EngineApiError(status, `(HTTP code ${status}) ${method} ${request.path}: ${message}`))
            }
            if (request.raw) return resolve(data as T)
            try {
              resolve((data.length === 0 ? undefined : JSON.parse(data.toString('utf8'))) as T)
            } catch (error) {
              reject(new Error(`${method} ${request.path}: the engine's reply is not JSON: ${(error as Error).message}`))
            }
          })
        }
      )
      req.on('error', error =>
        reject(
          error.name === 'AbortError' || error.name === 'TimeoutError'
            ? new Error(`${method} ${request.path}: no answer within ${(request.timeoutMs ?? REQUEST_TIMEOUT_MS) / 1000} s`)
            : error
        )
      )
      req.end(body)
    })
}

/** A few task fields are judged; the rest (each task repeats its service's whole spec) would only take memory. */
function taskSlice(task: Task): Task {
  const { ID, CreatedAt, ServiceID, Slot, NodeID, Spec, DesiredState, Status } = task
  const image = Spec?.ContainerSpec?.Image
  return {
    ID,
    CreatedAt,
    ServiceID,
    Slot,
    NodeID,
    Spec: {
      ContainerSpec: image === undefined ? {} : { Image: image },
      ForceUpdate: Spec?.ForceUpdate,
      Placement: Spec?.Placement,
      ...(Spec?.Resources?.Reservations ? { Resources: { Reservations: Spec.Resources.Reservations } } : {})
    },
    DesiredState,
    Status
  }
}

export function engineApi(socketPath: string): SwarmApi {
  // Keep-alive: each new connection costs a `dial-stdio` process on the manager.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
  const request = requester(socketPath, agent)
  let calls = 0
  const counted = <T>(req: EngineRequest): Promise<T> => {
    calls += 1
    return request<T>(req)
  }
  const list = <T>(what: string, filters: string): Promise<T[]> => counted<T[]>({ path: `/${what}`, query: { filters } })
  /** A service's spec as given, at the version it was read at; Swarm's warnings. */
  const updateSpec = async (serviceId: string, version: number, spec: Service['Spec'], headers?: Record<string, string>): Promise<string[]> => {
    const answer = await counted<{ Warnings?: string[] | null } | undefined>({
      method: 'POST',
      path: `/services/${encodeURIComponent(serviceId)}/update`,
      query: { version },
      ...(headers ? { headers } : {}),
      body: spec
    })
    return answer?.Warnings ?? []
  }
  return {
    async info() {
      type Info = {
        ServerVersion?: string
        SystemTime?: string
        Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; Cluster?: { ID?: string } | null }
      }
      const info = await counted<Info>({ path: '/info' })
      const isManager = info.Swarm?.ControlAvailable === true
      let clusterId = info.Swarm?.Cluster?.ID || undefined
      if (isManager && clusterId === undefined) clusterId = (await counted<{ ID?: string }>({ path: '/swarm' })).ID || undefined
      const systemTime = Date.parse(info.SystemTime ?? '')
      return {
        serverVersion: info.ServerVersion ?? 'unknown',
        isManager,
        swarmState: info.Swarm?.LocalNodeState ?? 'unknown',
        clusterId,
        ...(Number.isNaN(systemTime) ? {} : { systemTime })
      }
    },
    async snapshot(stack, serviceIds) {
      const nodes = (): Promise<Node[]> => counted<Node[]>({ path: '/nodes' })
      // The engine matches IDs by prefix, and all are the same length: a full ID matches only itself.
      // An empty list would be no filter at all, so asking for no service lists none.
      if (serviceIds?.length === 0) return { services: [], tasks: [], nodes: await nodes() }
      const tasksOf = async (ids: string[]): Promise<Task[]> =>
        ids.length === 0 ? [] : (await list<Task>('tasks', JSON.stringify({ service: ids }))).map(taskSlice)
      if (serviceIds === undefined) {
        // One request after the other, on one connection: the full reads come just before and just
        // after the deploy, and a second connection would take the spare channel the docker CLI's
        // deploy is about to need (a round trip costs far less than starting another dial-stdio).
        // A service removed between the two requests makes the task filter a 404: list them again.
        for (let attempt = 1; ; attempt++) {
          const services = await list<Service>('services', stackFilter(stack))
          try {
            const tasks = await tasksOf(services.map(s => s.ID))
            return { services, tasks, nodes: await nodes() }
          } catch (error) {
            if ((error as { statusCode?: number }).statusCode !== 404 || attempt >= 3) throw error
          }
        }
      }
      // The services are known: their tasks are asked for at the same time, so a poll takes one round trip.
      const filters = JSON.stringify({ label: [`${STACK_LABEL}=${stack}`], id: serviceIds })
      // The engine answers a task filter that names a removed service with 404 "service … not found",
      // not an empty list: then the tasks are asked for again, of the services still listed.
      const gone = (error: unknown): undefined => {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined
        throw error
      }
      const [services, some, nodeList] = await Promise.all([list<Service>('services', filters), tasksOf(serviceIds).catch(gone), nodes()])
      const listed = new Set(services.map(s => s.ID))
      const tasks = some ?? (await tasksOf([...listed]))
      // A service removed meanwhile: its tasks are not the stack's any more.
      return { services, tasks: tasks.filter(t => listed.has(t.ServiceID)), nodes: nodeList }
    },
    async reservations() {
      return reservationsOf((await list<Task>('tasks', JSON.stringify({ 'desired-state': ['running'] }))).map(taskSlice))
    },
    async taskLogs(taskId, sinceSeconds, tail, timeoutMs) {
      // Raw: the stream is multiplexed (stdout/stderr frames) unless the service has a TTY; diagnose demuxes it.
      return counted<Buffer>({
        path: `/tasks/${encodeURIComponent(taskId)}/logs`,
        query: { stdout: true, stderr: true, follow: false, since: sinceSeconds, tail, timestamps: false },
        raw: true,
        timeoutMs
      })
    },
    async rollback(serviceId) {
      const at = `/services/${encodeURIComponent(serviceId)}`
      const current = await counted<{ Version: { Index: number }; Spec: object }>({ path: at })
      // The API's rollback takes the current spec and version, like the CLI sends.
      await counted({ method: 'POST', path: `${at}/update`, query: { version: current.Version.Index, rollback: 'previous' }, body: current.Spec })
    },
    async ensureObject(kind, name, data, stack) {
      // The value travels only in this request body, base64 as the API wants it.
      const spec = { Name: name, Data: data.toString('base64'), Labels: { [STACK_LABEL]: stack } }
      try {
        await counted({ method: 'POST', path: `/${kind}s/create`, body: spec })
        return 'created'
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 409) return 'exists'
        throw error
      }
    },
    async listObjects(stack) {
      type Named = { ID: string; Spec: { Name: string } }
      const filters = stackFilter(stack)
      const [secrets, configs] = await Promise.all([list<Named>('secrets', filters), list<Named>('configs', filters)])
      return [
        ...secrets.map(s => ({ kind: 'secret' as const, id: s.ID, name: s.Spec.Name })),
        ...configs.map(c => ({ kind: 'config' as const, id: c.ID, name: c.Spec.Name }))
      ]
    },
    async removeObject(kind, id) {
      await counted({ method: 'DELETE', path: `/${kind}s/${encodeURIComponent(id)}` })
    },
    async listConfigs(labels) {
      const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => (v === '' ? k : `${k}=${v}`)) })
      type Raw = { ID: string; Version: { Index: number }; UpdatedAt?: string; Spec: { Name: string; Labels?: Record<string, string>; Data?: string } }
      const configs = await list<Raw>('configs', filters)
      return configs.map(c => ({
        id: c.ID,
        version: c.Version.Index,
        name: c.Spec.Name,
        labels: c.Spec.Labels ?? {},
        data: Buffer.from(c.Spec.Data ?? '', 'base64'),
        ...(c.UpdatedAt ? { updatedAt: c.UpdatedAt } : {})
      }))
    },
    async createConfig(name, data, labels) {
      try {
        await counted({ method: 'POST', path: '/configs/create', body: { Name: name, Data: data.toString('base64'), Labels: labels } })
        return 'created'
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 409) return 'exists'
        throw error
      }
    },
    async setConfigLabels(config, labels) {
      // Swarm refuses any change but to labels; the data is left out of the spec.
      await counted({
        method: 'POST',
        path: `/configs/${encodeURIComponent(config.id)}/update`,
        query: { version: config.version },
        body: { Name: config.name, Labels: labels }
      })
    },
    async readService(serviceId) {
      return counted<Service>({ path: `/services/${encodeURIComponent(serviceId)}` })
    },
    async updateRegistryAuth(serviceId, version, spec, registryAuth) {
      // The credential travels only in this header, as `docker service update --with-registry-auth` sends it.
      return updateSpec(serviceId, version, spec, { 'X-Registry-Auth': registryAuth })
    },
    async updateService(serviceId, version, spec) {
      return updateSpec(serviceId, version, spec)
    },
    async networks() {
      return networkSubnetsOf(await counted<unknown>({ path: '/networks' }))
    },
    async addressPool() {
      return addressPoolOf(await counted<unknown>({ path: '/info' }))
    },
    async wholeSwarm() {
      const [services, tasks, nodes] = await Promise.all([
        counted<Service[]>({ path: '/services' }),
        counted<Task[]>({ path: '/tasks' }),
        counted<Node[]>({ path: '/nodes' })
      ])
      return { services, tasks: tasks.map(taskSlice), nodes }
    },
    async serviceTasks(serviceId) {
      return (await list<Task>('tasks', JSON.stringify({ service: [serviceId] }))).map(taskSlice)
    },
    calls: () => calls,
    close: () => agent.destroy()
  }
}

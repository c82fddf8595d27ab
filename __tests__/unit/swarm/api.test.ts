// The Engine API client against a stand-in engine on a unix socket: the
// requests it makes, one connection kept alive for calls in turn (each new
// connection costs a `dial-stdio` on the manager), tasks cut to the fields
// the judge reads, and the engine's errors with their status.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { engineApi } from '../../../src/swarm/api.js'

let dir: string
let server: http.Server
let connections = 0
// The next task list answers 404, as when a service was removed between the service list and it.
let goneOnce = false
const requests: string[] = []

const service = (id: string) => ({
  ID: id,
  Version: { Index: 1 },
  Spec: { Name: `web_${id}`, Labels: { 'com.docker.stack.namespace': 'web' }, TaskTemplate: {}, Mode: {} }
})
const task = (id: string, serviceId: string) => ({
  ID: id,
  ServiceID: serviceId,
  Slot: 1,
  NodeID: 'n1',
  DesiredState: 'running',
  Status: { State: 'running', Timestamp: '2026-01-01T00:00:00Z' },
  Spec: { ContainerSpec: { Image: 'img@sha256:1', Env: ['BIG=value'], Mounts: [{ Source: '/x' }] }, ForceUpdate: 2, Networks: [{ Target: 'net' }] },
  NetworksAttachments: [{ Addresses: ['10.0.0.2/24'] }]
})

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sd-api-'))
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${decodeURIComponent(req.url ?? '')}`)
    const url = new URL(req.url ?? '/', 'http://docker')
    res.setHeader('Content-Type', 'application/json')
    if (url.pathname === '/services') {
      // s2 was removed: the engine lists only s1, while its tasks may still be there.
      return res.end(JSON.stringify([service('s1')]))
    }
    if (url.pathname === '/tasks') {
      // As engine 20.10 on the lab answers: a task filter that names a service which is gone is a 404, not an empty list.
      const named = (JSON.parse(url.searchParams.get('filters') ?? '{}') as { service?: string[] }).service ?? []
      if (named.includes('s2') || goneOnce) {
        goneOnce = false
        res.statusCode = 404
        return res.end(JSON.stringify({ message: 'service s2 not found' }))
      }
      return res.end(JSON.stringify([task('t1', 's1')]))
    }
    if (url.pathname === '/nodes') return res.end(JSON.stringify([{ ID: 'n1', Status: { State: 'ready' } }]))
    if (url.pathname === '/info') {
      return res.end(
        JSON.stringify({
          ServerVersion: '20.10.24',
          SystemTime: '2026-12-01T20:00:00.123456789Z',
          Swarm: { LocalNodeState: 'active', ControlAvailable: true, Cluster: { ID: 'cluster-1' } }
        })
      )
    }
    if (url.pathname === '/networks') {
      return res.end(JSON.stringify([{ Id: 'n1', Name: 'web_default', Scope: 'swarm', Driver: 'overlay', IPAM: { Config: [{ Subnet: '10.201.3.0/24' }] } }]))
    }
    if (url.pathname === '/configs') {
      const lock = { Name: 'web_lock', Labels: { 'io.swarm-deploy.lock': 'web' }, Data: Buffer.from('{}').toString('base64') }
      return res.end(
        JSON.stringify([{ ID: 'c1', Version: { Index: 12 }, CreatedAt: '2026-12-01T19:59:00.5Z', UpdatedAt: '2026-12-01T19:59:30.987654321Z', Spec: lock }])
      )
    }
    if (url.pathname === '/configs/create') {
      res.statusCode = 409
      return res.end(JSON.stringify({ message: 'config web_a already exists' }))
    }
    if (url.pathname === '/secrets/create') {
      res.statusCode = 500
      return res.end(JSON.stringify({ message: 'rpc error: something broke' }))
    }
    res.end('[]')
  })
  server.on('connection', () => (connections += 1))
  await new Promise<void>(resolve => server.listen(path.join(dir, 'engine.sock'), () => resolve()))
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>(resolve => server.close(() => resolve()))
  rmSync(dir, { recursive: true, force: true })
})

describe('the Engine API client', () => {
  it('reads a snapshot: services by stack label, then their tasks; with known services, their tasks at once, of listed services only', async () => {
    const api = engineApi(path.join(dir, 'engine.sock'))
    try {
      requests.length = 0
      await api.snapshot('web')
      expect(requests).toContain('GET /services?filters={"label":["com.docker.stack.namespace=web"]}')
      expect(requests).toContain('GET /tasks?filters={"service":["s1"]}')
      requests.length = 0
      const next = await api.snapshot('web', ['s1', 's2'])
      expect(requests).toContain('GET /services?filters={"label":["com.docker.stack.namespace=web"],"id":["s1","s2"]}')
      expect(requests).toContain('GET /tasks?filters={"service":["s1","s2"]}')
      // s2 is gone: the snapshot lists s1 and its tasks (asked for again, of the listed services only), never an error.
      expect(requests).toContain('GET /tasks?filters={"service":["s1"]}')
      expect(next.services.map(s => s.ID)).toEqual(['s1'])
      expect(next.tasks.map(t => t.ID)).toEqual(['t1'])
      expect(api.calls()).toBe(7)
    } finally {
      api.close()
    }
  })

  it('lists the stack again when a service went between the service list and the task list', async () => {
    const api = engineApi(path.join(dir, 'engine.sock'))
    try {
      goneOnce = true
      requests.length = 0
      const snapshot = await api.snapshot('web')
      expect(requests.filter(r => r.startsWith('GET /services'))).toHaveLength(2)
      expect(snapshot.tasks.map(t => t.ID)).toEqual(['t1'])
    } finally {
      api.close()
    }
  })

  it('keeps of a task only what the judge reads', async () => {
    const api = engineApi(path.join(dir, 'engine.sock'))
    try {
      const { tasks } = await api.snapshot('web', ['s1'])
      expect(tasks[0]).toEqual({
        ID: 't1',
        ServiceID: 's1',
        Slot: 1,
        NodeID: 'n1',
        DesiredState: 'running',
        Status: { State: 'running', Timestamp: '2026-01-01T00:00:00Z' },
        Spec: { ContainerSpec: { Image: 'img@sha256:1' }, ForceUpdate: 2 }
      })
    } finally {
      api.close()
    }
  })

  it('makes calls in turn over one kept-alive connection', async () => {
    const api = engineApi(path.join(dir, 'engine.sock'))
    try {
      const before = connections
      for (let i = 0; i < 5; i++) await api.listObjects('web')
      // listObjects asks for secrets and configs at once: two connections, then both reused.
      expect(connections - before).toBe(2)
    } finally {
      api.close()
    }
  })

  it("reads the networks with their subnets, and the swarm's address pool from /info (Docker's defaults where it does not say)", async () => {
    const api = engineApi(path.join(dir, 'engine.sock'))
    try {
      requests.length = 0
      expect(await api.networks()).toEqual([{ id: 'n1', name: 'web_default', scope: 'swarm', driver: 'overlay', labels: {}, subnets: ['10.201.3.0/24'] }])
      expect(await api.addressPool()).toEqual({ pools: ['10.0.0.0/8'], size: 24, defaulted: true })
      expect(requests).toEqual(['GET /networks', 'GET /info'])
    } finally {
      api.close()
    }
  })

  // The deploy lock is judged by the swarm's clock: a manager's SystemTime against the time it stamped the lock.
  it("reads the swarm's clock: /info's SystemTime and a config's UpdatedAt", async () => {
    const api = engineApi(path.join(dir, 'engine.sock'))
    try {
      expect(await api.info()).toEqual({
        serverVersion: '20.10.24',
        isManager: true,
        swarmState: 'active',
        clusterId: 'cluster-1',
        systemTime: Date.parse('2026-12-01T20:00:00.123Z')
      })
      expect(await api.listConfigs({ 'io.swarm-deploy.lock': 'web' })).toEqual([
        {
          id: 'c1',
          version: 12,
          name: 'web_lock',
          labels: { 'io.swarm-deploy.lock': 'web' },
          data: Buffer.from('{}'),
          updatedAt: '2026-12-01T19:59:30.987654321Z'
        }
      ])
    } finally {
      api.close()
    }
  })

  it('gives the engine status and message: 409 is an existing object, anything else an error', async () => {
    const api = engineApi(path.join(dir, 'engine.sock'))
    try {
      expect(await api.createConfig('web_a', Buffer.from('x'), {})).toBe('exists')
      await expect(api.ensureObject('secret', 'web_b', Buffer.from('x'), 'web')).rejects.toMatchObject({
        statusCode: 500,
        message: '(HTTP code 500) POST /secrets/create: rpc error: something broke'
      })
    } finally {
      api.close()
    }
  })
})

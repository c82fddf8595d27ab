// The cleanup's run with a fake swarm: which nodes get the jobs, what a node
// that is drained, that rejects the job or that never ends comes to, that the
// job services are always removed, and that nothing is ever thrown.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CliOptions, CliResult } from '../../../src/ports.js'
import type { PruneDeps, PruneRequest } from '../../../src/prune-images/prune.js'
import { JOB_DEADLINE_MS, pruneImages, skipReason } from '../../../src/prune-images/prune.js'
import type { Node, Service, Task } from '../../../src/swarm/model.js'

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/prune-images')
const swarm = JSON.parse(readFileSync(path.join(FIXTURES, 'swarm.json'), 'utf8')) as {
  services: Service[]
  tasks: Task[]
  nodes: Node[]
  releases: Array<{ services: Array<{ image: string }> }>
}
const listing = (host: string): string => readFileSync(path.join(FIXTURES, `listing-${host}.txt`), 'utf8')
const MGR = swarm.nodes.find(n => n.Description?.Hostname === 'swl-mgr')!
const WRK = swarm.nodes.find(n => n.Description?.Hostname === 'swl-wrk')!
const V1 = 'sha256:05e0578d3eac01e438dec83dff98f5b3ccb87fd686996e0db1cf753f40666b2b'

type Behaviour = 'complete' | 'rejected' | 'never'

/** A swarm whose job tasks do per node what `behaviour` says; the remove job removes what it is given. */
function world(nodes: Node[], behaviour: Record<string, Behaviour> = {}) {
  const commands: string[][] = []
  const jobs = new Map<string, { kind: string; ids: string }>()
  let clock = 0
  const deps: PruneDeps = {
    socketPath: '/run/sd/docker.sock',
    host: { now: () => clock, sleep: async ms => void (clock += ms) },
    reporter: { info: () => undefined, warn: () => undefined, debug: () => undefined },
    cli: {
      run: async (args: string[], options?: CliOptions): Promise<CliResult> => {
        commands.push(args)
        expect(options?.env?.DOCKER_HOST).toBe('unix:///run/sd/docker.sock')
        const ok = (stdout = ''): CliResult => ({ code: 0, stdout, stderr: '', timedOut: false })
        if (args[1] === 'ls') return ok('')
        if (args[1] === 'rm') return ok(args[2])
        const id = `job${jobs.size + 1}`
        const ids = args.find(a => a.startsWith('PRUNE_IDS=')) ?? ''
        jobs.set(id, { kind: args[args.indexOf('--name') + 1]!.includes('-list-') ? 'list' : 'remove', ids })
        return ok(`${id}\n`)
      }
    },
    api: {
      wholeSwarm: async () => ({ services: swarm.services, tasks: swarm.tasks, nodes }),
      serviceTasks: async (serviceId: string) =>
        nodes
          .filter(n => skipReason(n) === undefined && behaviour[n.ID] !== 'never')
          .map(n => ({
            ID: `${serviceId}.${n.ID}`,
            ServiceID: serviceId,
            NodeID: n.ID,
            DesiredState: 'complete' as const,
            Spec: {},
            Status:
              behaviour[n.ID] === 'rejected'
                ? { State: 'rejected' as const, Err: 'invalid mount config for type "bind": bind source path does not exist' }
                : { State: 'complete' as const }
          })),
      taskLogs: async (taskId: string) => {
        const [serviceId, node] = taskId.split('.') as [string, string]
        const job = jobs.get(serviceId)!
        if (job.kind === 'list') return Buffer.from(listing(node === MGR.ID ? 'swl-mgr' : 'swl-wrk'))
        const mine = job.ids
          .slice('PRUNE_IDS='.length)
          .split(' ')
          .find(e => e.startsWith(`${node}=`))!
        return Buffer.from(
          [
            ...mine
              .split('=')[1]!
              .split(',')
              .map(id => `removed ${id}`),
            'finished',
            ''
          ].join('\n')
        )
      }
    }
  }
  return { deps, commands, elapsed: () => clock }
}

const request = (dryRun = false): PruneRequest => ({
  stack: 'prune-rec',
  image: 'lab/docker-cli:1',
  socket: '/run/swl/{{.Node.Hostname}}.sock',
  keptReleases: swarm.releases,
  releaseImages: swarm.releases.flatMap(r => r.services.map(s => s.image)),
  dryRun
})

describe('pruneImages', () => {
  it('lists, removes v1 on both nodes, reports the bytes, and removes both job services', async () => {
    const { deps, commands } = world(swarm.nodes)
    const report = await pruneImages(request(), deps)
    expect(report.status).toBe('done')
    for (const node of report.nodes) {
      expect(node.state).toBe('cleaned')
      expect(node.removed.map(i => i.id)).toEqual([V1])
      expect(node.bytesFreed).toBe(1985595)
    }
    const created = commands.filter(c => c[1] === 'create').length
    expect(created).toBe(2)
    expect(commands.filter(c => c[1] === 'rm')).toHaveLength(created)
  })

  it('a preview runs only the listing', async () => {
    const { deps, commands } = world(swarm.nodes)
    const report = await pruneImages(request(true), deps)
    expect(report.status).toBe('previewed')
    expect(report.nodes.map(n => [n.state, n.removed.map(i => i.id)])).toEqual([
      ['previewed', [V1]],
      ['previewed', [V1]]
    ])
    expect(commands.filter(c => c[1] === 'create')).toHaveLength(1)
  })

  it('names a drained or down node as skipped, gives it no job, and cleans the others', async () => {
    const drained = { ...WRK, Spec: { ...WRK.Spec, Availability: 'drain' as const } }
    const { deps, commands } = world([MGR, drained])
    const report = await pruneImages(request(), deps)
    expect(report.status).toBe('done')
    expect(report.nodes.find(n => n.node === WRK.ID)).toMatchObject({ state: 'skipped', why: 'node is drained', removed: [] })
    expect(commands.find(c => c[1] === 'create')).toContain(`node.id!=${WRK.ID}`)
    expect(skipReason({ ...MGR, Status: { State: 'down' } })).toBe('node is down')
  })

  it('reports a node whose job is rejected, and one that never ends within the deadline; the others are cleaned', async () => {
    const rejected = world(swarm.nodes, { [WRK.ID]: 'rejected' })
    const report = await pruneImages(request(), rejected.deps)
    expect(report.status).toBe('partial')
    expect(report.nodes.find(n => n.node === WRK.ID)!.why).toMatch(/^listing: rejected: invalid mount config/)
    expect(report.nodes.find(n => n.node === MGR.ID)!.state).toBe('cleaned')

    const slow = world(swarm.nodes, { [WRK.ID]: 'never' })
    const late = await pruneImages(request(), slow.deps)
    expect(late.nodes.find(n => n.node === WRK.ID)!.why).toBe("listing: did not finish within the job's deadline (never scheduled)")
    expect(slow.elapsed()).toBeLessThanOrEqual(JOB_DEADLINE_MS + 1_000)
    expect(slow.commands.filter(c => c[1] === 'rm')).toHaveLength(slow.commands.filter(c => c[1] === 'create').length)
  })

  it('never throws: a swarm it cannot read is a failed cleanup', async () => {
    const { deps } = world(swarm.nodes)
    const report = await pruneImages(request(), { ...deps, api: { ...deps.api, wholeSwarm: async () => Promise.reject(new Error('no answer within 30 s')) } })
    expect(report).toEqual({ status: 'failed', nodes: [], message: 'no answer within 30 s' })
  })
})

describe('pruneImages with no ready node', () => {
  it('starts no job and names every node as skipped', async () => {
    const { deps, commands } = world([{ ...MGR, Status: { State: 'down' } }])
    const report = await pruneImages(request(), deps)
    expect(report.nodes).toEqual([expect.objectContaining({ state: 'skipped', why: 'node is down' })])
    expect(commands.filter(c => c[1] === 'create')).toEqual([])
  })
})

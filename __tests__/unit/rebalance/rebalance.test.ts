import { describe, expect, it } from '@jest/globals'
import type { RebalanceContext } from '../../../src/rebalance/rebalance.js'
import { rebalanceStack } from '../../../src/rebalance/rebalance.js'
import type { SwarmApi } from '../../../src/ports.js'
import type { Node, Service, Snapshot, Task } from '../../../src/swarm/model.js'

const STACK = 'rb'
const nodes: Node[] = ['mgr', 'wrk', 'n3'].map(id => ({ ID: id, Description: { Hostname: id }, Status: { State: 'ready' }, Spec: { Availability: 'active' } }))

function service(forced: number, state: 'completed' | undefined): Service {
  return {
    ID: 'svc',
    Version: { Index: 7 + forced },
    Spec: {
      Name: 'rb_web',
      Labels: { 'com.docker.stack.namespace': STACK, keep: 'me' },
      TaskTemplate: { ContainerSpec: { Image: 'busybox', Env: ['A=1'] }, ForceUpdate: forced },
      Mode: { Replicated: { Replicas: 6 } },
      UpdateConfig: { Parallelism: 2, Monitor: 1e9 }
    },
    ...(state ? { UpdateStatus: { State: state } } : {})
  }
}

function tasks(perNode: Record<string, number>, forced: number): Task[] {
  return Object.entries(perNode).flatMap(([node, n]) =>
    Array.from({ length: n }, (_, i) => ({
      ID: `${node}-${forced}-${i}`,
      ServiceID: 'svc',
      NodeID: node,
      Spec: { ContainerSpec: { Image: 'busybox' }, ForceUpdate: forced },
      DesiredState: 'running' as const,
      Status: { State: 'running' as const }
    }))
  )
}

/** A swarm whose service, once force-updated, runs 2/2/2 with the new spec. */
function fakeSwarm(perNode: Record<string, number>, outOfSequence = 0) {
  let current: Snapshot = { services: [service(0, undefined)], tasks: tasks(perNode, 0), nodes }
  const updates: Array<{ version: number; spec: Service['Spec'] }> = []
  let refuse = outOfSequence
  const api = {
    snapshot: async () => structuredClone(current),
    readService: async () => structuredClone(current.services[0]!),
    updateService: async (_id: string, version: number, spec: Service['Spec']) => {
      if (refuse-- > 0) throw new Error('rpc error: code = Unknown desc = update out of sequence')
      updates.push({ version, spec })
      current = { services: [{ ...service(1, 'completed'), Spec: spec }], tasks: tasks({ mgr: 2, wrk: 2, n3: 2 }, 1), nodes }
      return []
    },
    rollback: async () => undefined
  }
  return { api: api as unknown as SwarmApi, updates }
}

function context(api: SwarmApi, lines: string[], dryRun = false): RebalanceContext {
  let clock = 0
  return {
    api,
    stack: STACK,
    host: { now: () => (clock += 2_000), sleep: async () => undefined },
    reporter: { info: line => void lines.push(line), warn: line => void lines.push(`warn: ${line}`), phase: (_title, fn) => fn() },
    redact: text => text,
    deadline: 60_000,
    rollbackOnFailure: true,
    dryRun
  }
}

describe('rebalanceStack', () => {
  it('does nothing to a stack spread evenly', async () => {
    const { api, updates } = fakeSwarm({ mgr: 2, wrk: 2, n3: 2 })
    const lines: string[] = []
    const result = await rebalanceStack(context(api, lines))
    expect(updates).toEqual([])
    expect(result.verdict).toBeUndefined()
    expect(lines).toContain('Stack rb: every service is spread as evenly as its placement allows; nothing to move')
  })

  it('with dry-run, says what would move and updates nothing', async () => {
    const { api, updates } = fakeSwarm({ mgr: 3, wrk: 3 })
    const lines: string[] = []
    const result = await rebalanceStack(context(api, lines, true))
    expect(updates).toEqual([])
    expect(result.decisions[0]).toMatchObject({ kind: 'uneven' })
    expect(lines.join('\n')).toContain('1 from mgr to n3, 1 from wrk to n3')
  })

  it('force-updates an uneven service from the spec as read, ForceUpdate one higher and nothing else, then judges it', async () => {
    const { api, updates } = fakeSwarm({ mgr: 3, wrk: 3 })
    const lines: string[] = []
    const result = await rebalanceStack(context(api, lines))
    expect(updates).toEqual([
      { version: 7, spec: { ...service(0, undefined).Spec, TaskTemplate: { ...service(0, undefined).Spec.TaskTemplate, ForceUpdate: 1 } } }
    ])
    expect(result.verdict?.status).toBe('converged')
    expect(result.after).toEqual([expect.objectContaining({ kind: 'even' })])
    expect(lines).toContain('rb_web: now mgr 2, n3 2, wrk 2')
  })

  it('reads the service again after an update out of sequence', async () => {
    const { api, updates } = fakeSwarm({ mgr: 3, wrk: 3 }, 1)
    const lines: string[] = []
    await rebalanceStack(context(api, lines))
    expect(updates).toHaveLength(1)
    expect(lines.join('\n')).toContain('update out of sequence); reading it again (attempt 2 of 3)')
  })
})

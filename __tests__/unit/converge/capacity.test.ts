import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { reservationsOf, shortfall, waitsForCapacity } from '../../../src/converge/capacity.js'
import type { Snapshot, Task } from '../../../src/swarm/model.js'

// Recorded on the lab (engine 28.5, nodes of 2 CPUs) as a third node had just joined: capfx_web (1.5 CPUs,
// 3 replicas) runs one task on each node, capfx_pinned (1.5 CPUs) waits, capfx_nowhere has an unmet constraint.
const recorded = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../fixtures/capacity/pending.json'), 'utf8')) as Snapshot
const serviceId = (name: string): string => recorded.services.find(s => s.Spec.Name === name)!.ID
const pendingOf = (name: string): Task[] => recorded.tasks.filter(t => t.ServiceID === serviceId(name) && t.Status.State === 'pending')

describe('waitsForCapacity', () => {
  it("is Swarm's insufficient resources, on every node it names", () => {
    for (const task of pendingOf('capfx_pinned')) expect(waitsForCapacity(task.Status.Err!)).toBe(true)
    expect(waitsForCapacity('no suitable node (insufficient resources on 1 node)')).toBe(true)
    // A drained or down node may come back: that is capacity too.
    expect(waitsForCapacity('no suitable node (insufficient resources on 2 nodes; 1 node not available for new tasks)')).toBe(true)
  })

  it('is not a constraint, a platform, a plugin, nor a mix of those with resources', () => {
    expect(waitsForCapacity(pendingOf('capfx_nowhere')[0]!.Status.Err!)).toBe(false)
    expect(waitsForCapacity('no suitable node (scheduling constraints not satisfied on 1 node; insufficient resources on 1 node)')).toBe(false)
    expect(waitsForCapacity('no suitable node (unsupported platform on 2 nodes)')).toBe(false)
    expect(waitsForCapacity('no suitable node (missing plugin on 2 nodes)')).toBe(false)
    expect(waitsForCapacity('2 nodes not available for new tasks')).toBe(false)
    expect(waitsForCapacity('')).toBe(false)
  })
})

describe('reservationsOf', () => {
  it('sums what running tasks reserve on each node', () => {
    const held = reservationsOf(recorded.tasks)
    const byHost = Object.fromEntries(recorded.nodes.map(n => [n.Description!.Hostname!, held[n.ID]]))
    // Each node: one capfx_web task (1.5 CPUs) and one capfx_mem task (20 GiB).
    for (const host of ['swl-mgr', 'swl-wrk', 'swl-n3']) expect(byHost[host]).toEqual({ NanoCPUs: 1.5e9, MemoryBytes: 20 * 2 ** 30 })
  })

  it('leaves out tasks that ended or are to stop', () => {
    const [running] = recorded.tasks.filter(t => t.Status.State === 'running')
    const ended = { ...running!, Status: { ...running!.Status, State: 'failed' as const } }
    const stopping = { ...running!, DesiredState: 'shutdown' as const }
    expect(reservationsOf([ended, stopping])).toEqual({})
  })
})

describe('shortfall', () => {
  it('says what the waiting tasks need and the most any node has free', () => {
    expect(shortfall(pendingOf('capfx_pinned'), recorded.nodes, reservationsOf(recorded.tasks))).toBe(
      '2 tasks need 1.5 CPUs each; the most free on any node is 0.5 CPUs'
    )
    expect(shortfall(pendingOf('capfx_pinned').slice(1), recorded.nodes, reservationsOf(recorded.tasks))).toBe(
      '1 task needs 1.5 CPUs; the most free on any node is 0.5 CPUs'
    )
  })

  it('says memory in GiB, and counts a drained node as having nothing free', () => {
    const task = { ...pendingOf('capfx_pinned')[0]!, Spec: { Resources: { Reservations: { MemoryBytes: 3 * 2 ** 30 } } } }
    const nodes = recorded.nodes.map((n, i) => (i === 0 ? n : { ...n, Spec: { ...n.Spec, Availability: 'drain' as const } }))
    const free = (recorded.nodes[0]!.Description!.Resources!.MemoryBytes! - 20 * 2 ** 30) / 2 ** 30
    expect(shortfall([task], nodes, reservationsOf(recorded.tasks))).toBe(
      `1 task needs 3 GiB of memory; the most free on any node is ${Number(free.toFixed(2))} GiB`
    )
  })
})

// The nodes a global service owes a task to, on the lab's own recorded nodes
// (__tests__/fixtures/global.json): a manager swl-mgr and a worker swl-wrk.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Node, Snapshot } from '../../../src/swarm/model.js'
import { globalNodes, nodeMeets } from '../../../src/swarm/placement.js'

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/global.json')
const recorded = (JSON.parse(readFileSync(fixture, 'utf8')) as { snapshots: Snapshot[] }).snapshots.at(-1)!.nodes
const byName = (name: string): Node => recorded.find(n => n.Description?.Hostname === name)!
const mgr = byName('swl-mgr')
const wrk = { ...byName('swl-wrk'), Spec: { ...byName('swl-wrk').Spec, Labels: { zone: 'a' } } }
const names = (ids: string[]): string[] => ids.map(id => [mgr, wrk].find(n => n.ID === id)!.Description!.Hostname!).sort()
const owed = (constraints: string[], nodes: Node[] = [mgr, wrk]): string[] => names(globalNodes(constraints, nodes))

describe('placement constraints', () => {
  it('admit every node when there are none', () => {
    expect(owed([])).toEqual(['swl-mgr', 'swl-wrk'])
  })

  it('match the role, hostname, id and platform, without regard to the case of key or value', () => {
    expect(owed(['node.role==worker'])).toEqual(['swl-wrk'])
    expect(owed(['NODE.ROLE == Manager'])).toEqual(['swl-mgr'])
    expect(owed(['node.hostname!=swl-mgr'])).toEqual(['swl-wrk'])
    expect(owed([`node.id==${mgr.ID}`])).toEqual(['swl-mgr'])
    expect(owed(['node.platform.os==linux', 'node.platform.arch==x86_64'])).toEqual(['swl-mgr', 'swl-wrk'])
    expect(owed(['node.platform.os==windows'])).toEqual([])
  })

  it('match node labels by their case-sensitive name; a missing label is the empty value', () => {
    expect(owed(['node.labels.zone==a'])).toEqual(['swl-wrk'])
    expect(owed(['node.labels.zone==A'])).toEqual(['swl-wrk'])
    expect(owed(['node.labels.Zone==a'])).toEqual([])
    expect(owed(['node.labels.zone!=a'])).toEqual(['swl-mgr'])
    expect(owed(['node.labels.zone==a', 'node.role==manager'])).toEqual([])
  })

  it('match engine labels, and admit no node for a key Swarm does not know', () => {
    const labelled = { ...mgr, Description: { ...mgr.Description, Engine: { Labels: { disk: 'ssd' } } } }
    expect(nodeMeets(['engine.labels.disk==ssd'], labelled)).toBe(true)
    expect(nodeMeets(['engine.labels.disk==ssd'], mgr)).toBe(false)
    expect(nodeMeets(['node.colour==blue'], mgr)).toBe(false)
    expect(nodeMeets(['node.role'], mgr)).toBe(false)
  })

  it('owe nothing to a drained, paused, down or disconnected node', () => {
    const drained = { ...wrk, Spec: { ...wrk.Spec, Availability: 'drain' as const } }
    const paused = { ...wrk, Spec: { ...wrk.Spec, Availability: 'pause' as const } }
    expect(owed([], [mgr, drained])).toEqual(['swl-mgr'])
    expect(owed([], [mgr, paused])).toEqual(['swl-mgr'])
    expect(owed([], [mgr, { ...wrk, Status: { State: 'down' } }])).toEqual(['swl-mgr'])
    expect(owed([], [mgr, { ...wrk, Status: { State: 'disconnected' } }])).toEqual(['swl-mgr'])
  })
})

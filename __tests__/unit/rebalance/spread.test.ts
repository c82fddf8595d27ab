import { describe, expect, it } from '@jest/globals'
import { decisionLine, rebalancePlan, satisfies, spreadOf } from '../../../src/rebalance/spread.js'
import type { Node, Service, Task } from '../../../src/swarm/model.js'

const STACK = 'rb'
const node = (id: string, extra: Partial<Node> = {}, labels: Record<string, string> = {}): Node => ({
  ID: id,
  Description: { Hostname: `swl-${id}`, Platform: { OS: 'linux', Architecture: 'x86_64' } },
  Status: { State: 'ready' },
  Spec: { Availability: 'active', Role: id === 'mgr' ? 'manager' : 'worker', Labels: labels },
  ...extra
})
const lab = [node('mgr'), node('wrk'), node('n3')]

function service(replicas: number, placement: NonNullable<Service['Spec']['TaskTemplate']['Placement']> = {}, extra: Partial<Service> = {}): Service {
  return {
    ID: 'svc',
    Version: { Index: 5 },
    Spec: {
      Name: `${STACK}_web`,
      Labels: { 'com.docker.stack.namespace': STACK },
      TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Placement: placement },
      Mode: { Replicated: { Replicas: replicas } }
    },
    ...extra
  }
}

/** Running tasks: so many on each node, in that order. */
function tasks(perNode: Record<string, number>): Task[] {
  return Object.entries(perNode).flatMap(([nodeId, n]) =>
    Array.from({ length: n }, (_, i) => ({
      ID: `${nodeId}-${i}`,
      ServiceID: 'svc',
      NodeID: nodeId,
      Spec: {},
      DesiredState: 'running' as const,
      Status: { State: 'running' as const }
    }))
  )
}

describe('spreadOf', () => {
  it('finds 6 tasks on 2 nodes uneven once a third has joined, and says 1 moves from each to it', () => {
    const decision = spreadOf(service(6), tasks({ mgr: 3, wrk: 3 }), lab)
    expect(decision).toMatchObject({
      kind: 'uneven',
      spread: [
        { node: 'swl-mgr', tasks: 3 },
        { node: 'swl-n3', tasks: 0 },
        { node: 'swl-wrk', tasks: 3 }
      ],
      target: [
        { node: 'swl-mgr', tasks: 2 },
        { node: 'swl-n3', tasks: 2 },
        { node: 'swl-wrk', tasks: 2 }
      ],
      moves: [
        { from: 'swl-mgr', to: 'swl-n3', tasks: 1 },
        { from: 'swl-wrk', to: 'swl-n3', tasks: 1 }
      ]
    })
    expect(decisionLine(decision)).toBe(
      'rb_web: uneven (swl-mgr 3, swl-n3 0, swl-wrk 3) → swl-mgr 2, swl-n3 2, swl-wrk 2: 1 from swl-mgr to swl-n3, 1 from swl-wrk to swl-n3; a rolling --force update with its own update config restarts every task'
    )
  })

  it('leaves an even spread alone, and one a task off (7 on 3 nodes)', () => {
    expect(spreadOf(service(6), tasks({ mgr: 2, wrk: 2, n3: 2 }), lab).kind).toBe('even')
    expect(spreadOf(service(7), tasks({ mgr: 3, wrk: 2, n3: 2 }), lab).kind).toBe('even')
    expect(spreadOf(service(1), tasks({ mgr: 1 }), lab).kind).toBe('even')
  })

  it('leaves alone what placement allows no better', () => {
    // Only workers: the manager's tasks cannot move, and the two workers are even.
    expect(spreadOf(service(4, { Constraints: ['node.role == worker'] }), tasks({ wrk: 2, n3: 2 }), lab).kind).toBe('even')
    // The new node lacks the label the service asks for.
    const labelled = [node('mgr', {}, { zone: 'a' }), node('wrk', {}, { zone: 'a' }), node('n3')]
    expect(spreadOf(service(6, { Constraints: ['node.labels.zone==a'] }), tasks({ mgr: 3, wrk: 3 }), labelled).kind).toBe('even')
    // At most 3 a node, on 3 nodes: 3/3/0 for 6 would become 2/2/2, but 2 nodes with max 1 are full.
    expect(spreadOf(service(2, { MaxReplicas: 1 }), tasks({ mgr: 1, wrk: 1 }), lab).kind).toBe('even')
    // Another platform.
    const arm = [node('mgr'), node('wrk'), node('n3', { Description: { Hostname: 'swl-n3', Platform: { OS: 'linux', Architecture: 'aarch64' } } })]
    expect(spreadOf(service(6, { Platforms: [{ OS: 'linux', Architecture: 'amd64' }] }), tasks({ mgr: 3, wrk: 3 }), arm).kind).toBe('even')
  })

  it('does not count a node that is down, drained or paused as one that can take tasks', () => {
    for (const n3 of [
      node('n3', { Status: { State: 'down' } }),
      node('n3', { Spec: { Availability: 'drain' } }),
      node('n3', { Spec: { Availability: 'pause' } })
    ]) {
      expect(spreadOf(service(6), tasks({ mgr: 3, wrk: 3 }), [node('mgr'), node('wrk'), n3]).kind).toBe('even')
    }
  })

  it('keeps to the room MaxReplicas leaves', () => {
    expect(spreadOf(service(5, { MaxReplicas: 2 }), tasks({ mgr: 2, wrk: 2, n3: 1 }), lab).kind).toBe('even')
    // The full nodes are not judged against the new one as if they had room: 2 on mgr, 0 on n4 is uneven; 2 on mgr, 1 on n3 is not.
    expect(spreadOf(service(5, { MaxReplicas: 2 }), tasks({ mgr: 2, wrk: 2, n3: 1 }), [...lab, node('n4')])).toMatchObject({
      kind: 'uneven',
      target: [
        { node: 'swl-mgr', tasks: 2 },
        { node: 'swl-n3', tasks: 1 },
        { node: 'swl-n4', tasks: 1 },
        { node: 'swl-wrk', tasks: 1 }
      ]
    })
    const four = spreadOf(service(4, { MaxReplicas: 3 }), tasks({ mgr: 3, wrk: 1 }), lab)
    expect(four).toMatchObject({ kind: 'uneven', moves: [{ from: 'swl-mgr', to: 'swl-n3', tasks: 1 }] })
  })

  it('leaves alone a service it cannot judge, saying why', () => {
    const cases: Array<[Service, Task[], string]> = [
      [
        service(6, { Constraints: ['node.ip == 10.0.0.1'] }),
        tasks({ mgr: 3, wrk: 3 }),
        "its constraint 'node.ip == 10.0.0.1' is not one this tool can evaluate"
      ],
      [service(6, { Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] }), tasks({ mgr: 3, wrk: 3 }), 'placement preferences'],
      [service(6), tasks({ mgr: 3, wrk: 2 }), '5/6 tasks running'],
      [service(6, {}, { UpdateStatus: { State: 'updating' } }), tasks({ mgr: 3, wrk: 3 }), 'an update is under way or paused (updating)'],
      [{ ...service(0), Spec: { ...service(0).Spec, Mode: { Global: {} } } }, tasks({ mgr: 1, wrk: 1 }), 'a global service']
    ]
    for (const [svc, running, reason] of cases) {
      const decision = spreadOf(svc, running, lab)
      expect(decision.kind).toBe('skipped')
      expect(decision.kind === 'skipped' && decision.reason).toContain(reason)
    }
  })

  it('reads only running tasks meant to run', () => {
    const shutdown = tasks({ mgr: 3 }).map(t => ({ ...t, ID: `old-${t.ID}`, DesiredState: 'shutdown' as const, Status: { State: 'shutdown' as const } }))
    expect(spreadOf(service(6), [...tasks({ mgr: 2, wrk: 2, n3: 2 }), ...shutdown], lab).kind).toBe('even')
  })
})

describe('satisfies', () => {
  const n = node('wrk', {}, { zone: 'A' })
  it('matches as Swarm does: attribute names and values without case, != true for a missing label', () => {
    expect(satisfies(n, 'node.hostname==SWL-WRK')).toBe(true)
    expect(satisfies(n, 'Node.Role == worker')).toBe(true)
    expect(satisfies(n, 'node.labels.zone == a')).toBe(true)
    expect(satisfies(n, 'node.labels.region != eu')).toBe(true)
    expect(satisfies(n, 'node.labels.region == eu')).toBe(false)
    expect(satisfies(n, 'node.platform.arch == amd64')).toBe(true)
    expect(satisfies(n, 'node.platform.os != linux')).toBe(false)
    expect(satisfies(n, 'node.id == wrk')).toBe(true)
    expect(satisfies(n, 'node.ip == 1.2.3.4')).toBeUndefined()
    expect(satisfies(n, 'nonsense')).toBeUndefined()
  })
})

describe('rebalancePlan', () => {
  it("judges every service of the stack, by name, and no other stack's", () => {
    const other = { ...service(6), ID: 'other', Spec: { ...service(6).Spec, Name: 'x_web', Labels: { 'com.docker.stack.namespace': 'x' } } }
    const plan = rebalancePlan({ services: [other, service(6)], tasks: tasks({ mgr: 3, wrk: 3 }), nodes: lab }, STACK)
    expect(plan.map(d => [d.service, d.kind])).toEqual([['rb_web', 'uneven']])
  })
})

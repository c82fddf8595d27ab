// Whether a replicated service's running tasks are spread as evenly over
// the nodes that can take them as its placement allows. Swarm never moves a
// running task onto a node that joined later; a rolling `--force` update
// starts every task afresh, and its scheduler puts each where the service
// has the fewest. This decides which services that would help, and what the
// spread should become. Pure: a function of the nodes and the tasks.
import type { Node, Service, Task } from '../swarm/model.js'
import { modeOf, stackServices } from '../converge/spec.js'
import type { Snapshot } from '../swarm/model.js'
import { unreachable } from '../exhaustive.js'

/** How many of the service's running tasks a node has. */
export interface NodeCount {
  node: string
  tasks: number
}

/** Tasks the rebalance expects to leave one node for another. */
export interface Move {
  from: string
  to: string
  tasks: number
}

export type SpreadDecision =
  | { kind: 'even'; service: string; id: string; spread: NodeCount[] }
  | { kind: 'uneven'; service: string; id: string; spread: NodeCount[]; target: NodeCount[]; moves: Move[] }
  | { kind: 'skipped'; service: string; id: string; reason: string }

/** A node's side of one placement constraint: undefined when this code cannot tell (the service is then left alone). */
function nodeValues(node: Node, given: string): string[] | undefined {
  const description = node.Description ?? {}
  // Swarm reads the attribute names without case, a label's name as it is.
  const key = given.toLowerCase()
  if (key === 'node.id') return [node.ID]
  if (key === 'node.hostname') return description.Hostname === undefined ? [] : [description.Hostname]
  if (key === 'node.role') return node.Spec?.Role === undefined ? [] : [node.Spec.Role]
  if (key === 'node.platform.os') return description.Platform?.OS === undefined ? [] : [description.Platform.OS]
  if (key === 'node.platform.arch') return archNames(description.Platform?.Architecture)
  const label = (labels: Record<string, string> | null | undefined, prefix: string): string[] => {
    const value = labels?.[given.slice(prefix.length)]
    return value === undefined ? [] : [value]
  }
  if (key.startsWith('node.labels.')) return label(node.Spec?.Labels, 'node.labels.')
  if (key.startsWith('engine.labels.')) return label(description.Engine?.Labels, 'engine.labels.')
  return undefined
}

/** Docker and the kernel name some architectures differently; Swarm takes either. */
function archNames(arch: string | undefined): string[] {
  if (arch === undefined) return []
  const aliases: Record<string, string[]> = { x86_64: ['amd64'], amd64: ['x86_64'], aarch64: ['arm64'], arm64: ['aarch64'] }
  return [arch, ...(aliases[arch.toLowerCase()] ?? [])]
}

const CONSTRAINT = /^\s*([\w.-]+)\s*(==|!=)\s*(.*?)\s*$/

/** true or false as Swarm would match it (values compared without case, as swarmkit does), or undefined when it cannot be told. */
export function satisfies(node: Node, constraint: string): boolean | undefined {
  const parsed = CONSTRAINT.exec(constraint)
  if (!parsed) return undefined
  const [, key, operator, expected] = parsed
  const values = nodeValues(node, key!)
  if (values === undefined) return undefined
  const match = values.some(value => value.toLowerCase() === expected!.toLowerCase())
  return operator === '==' ? match : !match
}

function platformFits(node: Node, platforms: Array<{ OS?: string; Architecture?: string }> | undefined): boolean {
  if (!platforms || platforms.length === 0) return true
  const os = node.Description?.Platform?.OS?.toLowerCase()
  const arches = archNames(node.Description?.Platform?.Architecture).map(a => a.toLowerCase())
  return platforms.some(p => (!p.OS || p.OS.toLowerCase() === os) && (!p.Architecture || arches.includes(p.Architecture.toLowerCase())))
}

/** The nodes that can take a task of the service, or why that cannot be told. */
function eligibleNodes(service: Service, nodes: Node[]): Node[] | string {
  const placement = service.Spec.TaskTemplate.Placement ?? {}
  const open = nodes.filter(n => n.Status.State === 'ready' && (n.Spec?.Availability ?? 'active') === 'active')
  const fits: Node[] = []
  for (const node of open) {
    let ok = platformFits(node, placement.Platforms)
    for (const constraint of placement.Constraints ?? []) {
      const result = satisfies(node, constraint)
      if (result === undefined) return `its constraint '${constraint}' is not one this tool can evaluate`
      ok &&= result
    }
    if (ok) fits.push(node)
  }
  return fits
}

const nameOf = (node: Node): string => node.Description?.Hostname ?? node.ID

/**
 * The spread the running tasks should have: as even as the nodes' room
 * allows (MaxReplicas), each task given to the node with the fewest so far,
 * ties to the node that has more now (fewer moves), then by name.
 */
function evenTarget(total: number, slots: Array<{ node: string; now: number; cap: number }>): NodeCount[] | undefined {
  const target = new Map(slots.map(s => [s.node, 0]))
  for (let placed = 0; placed < total; placed++) {
    const open = slots.filter(s => target.get(s.node)! < s.cap)
    if (open.length === 0) return undefined
    open.sort((a, b) => target.get(a.node)! - target.get(b.node)! || b.now - a.now || a.node.localeCompare(b.node))
    target.set(open[0]!.node, target.get(open[0]!.node)! + 1)
  }
  return slots.map(s => ({ node: s.node, tasks: target.get(s.node)! }))
}

/** Surplus to deficit, largest first: what the preview says moves where. */
function movesOf(spread: NodeCount[], target: NodeCount[]): Move[] {
  const want = new Map(target.map(t => [t.node, t.tasks]))
  const surplus = spread.map(s => ({ node: s.node, n: s.tasks - (want.get(s.node) ?? 0) })).filter(s => s.n > 0)
  const have = new Map(spread.map(s => [s.node, s.tasks]))
  const deficit = target.map(t => ({ node: t.node, n: t.tasks - (have.get(t.node) ?? 0) })).filter(d => d.n > 0)
  const moves: Move[] = []
  for (const from of surplus) {
    for (const to of deficit) {
      const tasks = Math.min(from.n, to.n)
      if (tasks === 0) continue
      moves.push({ from: from.node, to: to.node, tasks })
      from.n -= tasks
      to.n -= tasks
    }
  }
  return moves
}

const BUSY = new Set(['updating', 'paused', 'rollback_started', 'rollback_paused'])

/** One replicated service: even, uneven (with the spread it should have), or left alone and why. */
export function spreadOf(service: Service, tasks: Task[], nodes: Node[]): SpreadDecision {
  const base = { service: service.Spec.Name, id: service.ID }
  const mode = modeOf(service)
  if (mode !== 'replicated') return { ...base, kind: 'skipped', reason: `a ${mode} service: Swarm places its tasks itself` }
  const state = service.UpdateStatus?.State
  if (state && BUSY.has(state)) return { ...base, kind: 'skipped', reason: `an update is under way or paused (${state})` }
  if ((service.Spec.TaskTemplate.Placement?.Preferences ?? []).length > 0)
    return { ...base, kind: 'skipped', reason: 'it has placement preferences: Swarm spreads it over node labels, not nodes' }
  const running = tasks.filter(t => t.ServiceID === service.ID && t.DesiredState === 'running' && t.Status.State === 'running' && t.NodeID)
  const desired = service.Spec.Mode.Replicated?.Replicas ?? 1
  if (running.length !== desired)
    return { ...base, kind: 'skipped', reason: `${running.length}/${desired} tasks running: rebalance a service once it has converged` }
  const eligible = eligibleNodes(service, nodes)
  if (typeof eligible === 'string') return { ...base, kind: 'skipped', reason: eligible }
  if (eligible.length === 0) return { ...base, kind: 'skipped', reason: 'no ready, active node fits its placement' }
  const byId = new Map(nodes.map(n => [n.ID, n]))
  const counts = new Map<string, number>()
  for (const node of eligible) counts.set(nameOf(node), 0)
  for (const task of running) {
    const name = byId.has(task.NodeID!) ? nameOf(byId.get(task.NodeID!)!) : task.NodeID!
    counts.set(name, (counts.get(name) ?? 0) + 1)
  }
  const spread = [...counts].map(([node, n]) => ({ node, tasks: n })).sort((a, b) => a.node.localeCompare(b.node))
  const max = service.Spec.TaskTemplate.Placement?.MaxReplicas || Infinity
  const slots = eligible.map(n => ({ node: nameOf(n), now: counts.get(nameOf(n))!, cap: max })).sort((a, b) => a.node.localeCompare(b.node))
  // A node that can take one more has two fewer than another: one task moved makes it more even.
  const roomy = slots.filter(s => s.now < s.cap)
  const most = Math.max(...spread.map(s => s.tasks))
  const uneven = roomy.some(s => most - s.now >= 2)
  const target = uneven ? evenTarget(running.length, slots) : undefined
  if (!target) return { ...base, kind: 'even', spread }
  return { ...base, kind: 'uneven', spread, target, moves: movesOf(spread, target) }
}

/** Every service of the stack, by name. */
export function rebalancePlan(snapshot: Snapshot, stack: string): SpreadDecision[] {
  return stackServices(snapshot, stack)
    .sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name))
    .map(service => spreadOf(service, snapshot.tasks, snapshot.nodes))
}

const counted = (spread: NodeCount[]): string => spread.map(s => `${s.node} ${s.tasks}`).join(', ')

/** One line a person reads: what would move, or why not. */
export function decisionLine(decision: SpreadDecision): string {
  switch (decision.kind) {
    case 'even':
      return `${decision.service}: spread as evenly as its placement allows (${counted(decision.spread)}); left alone`
    case 'uneven':
      return `${decision.service}: uneven (${counted(decision.spread)}) → ${counted(decision.target)}: ${decision.moves
        .map(m => `${m.tasks} from ${m.from} to ${m.to}`)
        .join(', ')}; a rolling --force update with its own update config restarts every task`
    case 'skipped':
      return `${decision.service}: left alone: ${decision.reason}`
    default:
      return unreachable(decision)
  }
}

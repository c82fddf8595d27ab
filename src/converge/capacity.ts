// Tasks that wait for capacity: Swarm found no node with enough free CPU or
// memory for them, which a node joining (an autoscaler's) or another task
// ending can change, unlike a constraint, a platform or a missing plugin.
// What they need and what the nodes have free, said in numbers.
import type { Node, ResourceAmounts, Service, Task } from '../swarm/model.js'
import { ACTIVE_DESIRED } from './tasks.js'

/** The service label that makes tasks waiting only for capacity part of a converged service. */
export const CAPACITY_LABEL = 'io.swarm-deploy.capacity'

export const isBestEffort = (service: Pick<Service, 'Spec'>): boolean => service.Spec.Labels?.[CAPACITY_LABEL] === 'best-effort'

// swarmkit's scheduler joins each filter's Explain() in the task's error:
// "no suitable node (insufficient resources on 2 nodes)", or with several
// filters "no suitable node (scheduling constraints not satisfied on 1 node;
// insufficient resources on 1 node)". Its filters run in order, so a node
// short of resources is counted there and not also by a later filter.
const NO_SUITABLE_NODE = /^no suitable node \((.*)\)$/
const RESOURCES = /^insufficient resources on \d+ nodes?$/
// Drained, paused or down nodes (ReadyFilter): a node coming back or joining is capacity too.
const NOT_AVAILABLE = /^\d+ nodes? not available for new tasks$/

/** The reasons in a "no suitable node (…)" error, or undefined for any other text. */
function reasonsOf(error: string): string[] | undefined {
  const match = NO_SUITABLE_NODE.exec(error.trim())
  return match ? match[1]!.split(';').map(part => part.trim()) : undefined
}

/** Swarm placed the task nowhere only because no node has enough free CPU or memory. */
export function waitsForCapacity(error: string): boolean {
  const reasons = reasonsOf(error)
  if (!reasons) return false
  return reasons.some(r => RESOURCES.test(r)) && reasons.every(r => RESOURCES.test(r) || NOT_AVAILABLE.test(r))
}

/** What tasks hold on each node, by node ID: those Swarm still wants and that have not ended. */
export type NodeReservations = Record<string, ResourceAmounts>

/** Sum the reservations of tasks placed on nodes, as Swarm's scheduler counts them against a node. */
export function reservationsOf(tasks: Task[]): NodeReservations {
  const held: NodeReservations = {}
  for (const task of tasks) {
    if (!task.NodeID || task.DesiredState !== 'running' || !ACTIVE_DESIRED.has(task.Status.State)) continue
    const wants = task.Spec.Resources?.Reservations
    const node = (held[task.NodeID] ??= { NanoCPUs: 0, MemoryBytes: 0 })
    node.NanoCPUs = (node.NanoCPUs ?? 0) + (wants?.NanoCPUs ?? 0)
    node.MemoryBytes = (node.MemoryBytes ?? 0) + (wants?.MemoryBytes ?? 0)
  }
  return held
}

const cpus = (nano: number): string => `${Number((nano / 1e9).toFixed(2))} CPU${nano === 1e9 ? '' : 's'}`
function bytes(n: number): string {
  const gib = n / 2 ** 30
  return gib >= 1 ? `${Number(gib.toFixed(2))} GiB` : `${Number((n / 2 ** 20).toFixed(1))} MiB`
}

/**
 * "1 task needs 1.5 CPUs; the most free on any node is 0.5 CPUs", for each
 * resource the waiting tasks reserve, from the nodes' resources less what
 * tasks on them reserve. Nodes that take no new tasks have nothing free.
 */
export function shortfall(waiting: Task[], nodes: Node[], reserved: NodeReservations): string {
  const open = nodes.filter(n => n.Status.State === 'ready' && (n.Spec?.Availability ?? 'active') === 'active')
  const freeOf = (key: keyof ResourceAmounts): number => Math.max(0, ...open.map(n => (n.Description?.Resources?.[key] ?? 0) - (reserved[n.ID]?.[key] ?? 0)))
  const tasks = `${waiting.length} task${waiting.length === 1 ? '' : 's'}`
  const each = waiting.length === 1 ? '' : ' each'
  const parts: string[] = []
  const need = (key: keyof ResourceAmounts): number => Math.max(0, ...waiting.map(t => t.Spec.Resources?.Reservations?.[key] ?? 0))
  const cpu = need('NanoCPUs')
  if (cpu > 0) parts.push(`${tasks} need${waiting.length === 1 ? 's' : ''} ${cpus(cpu)}${each}; the most free on any node is ${cpus(freeOf('NanoCPUs'))}`)
  const memory = need('MemoryBytes')
  if (memory > 0) {
    parts.push(
      `${tasks} need${waiting.length === 1 ? 's' : ''} ${bytes(memory)} of memory${each}; the most free on any node is ${bytes(freeOf('MemoryBytes'))}`
    )
  }
  return parts.length > 0 ? parts.join('; ') : `${tasks} wait${waiting.length === 1 ? 's' : ''} for a node with room`
}

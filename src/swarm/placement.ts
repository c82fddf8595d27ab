// Which nodes a service's placement constraints admit, as Swarm decides it
// (swarmkit's manager/constraint): `key==value` or `key!=value`, values
// compared without regard to case, label names with it. A global service owes
// one task to each node it admits; its tasks cannot tell, since right after a
// deploy the orchestrator may not have created them yet.
import type { Node } from './model.js'

interface Constraint {
  key: string
  equal: boolean
  value: string
}

function parse(expression: string): Constraint | undefined {
  // Swarm tries `==` before `!=` and splits at the first occurrence.
  for (const [operator, equal] of [
    ['==', true],
    ['!=', false]
  ] as const) {
    const at = expression.indexOf(operator)
    if (at < 0) continue
    return { key: expression.slice(0, at).trim(), equal, value: expression.slice(at + operator.length).trim() }
  }
  return undefined
}

/** A node in these states is gone for now: its tasks will be replaced elsewhere, and a global service owes it none. */
export const GONE_NODE_STATES: ReadonlySet<string> = new Set(['down', 'disconnected'])

const NODE_LABEL = 'node.labels.'
const ENGINE_LABEL = 'engine.labels.'

/** The node's value for a constraint key; a missing one is the empty string. Undefined for a key Swarm does not know. */
function attribute(node: Node, key: string): string | undefined {
  const lower = key.toLowerCase()
  if (lower === 'node.id') return node.ID
  if (lower === 'node.hostname') return node.Description?.Hostname ?? ''
  if (lower === 'node.role') return node.Spec?.Role ?? ''
  if (lower === 'node.platform.os') return node.Description?.Platform?.OS ?? ''
  if (lower === 'node.platform.arch') return node.Description?.Platform?.Architecture ?? ''
  if (lower.startsWith(NODE_LABEL) && key.length > NODE_LABEL.length) return node.Spec?.Labels?.[key.slice(NODE_LABEL.length)] ?? ''
  if (lower.startsWith(ENGINE_LABEL) && key.length > ENGINE_LABEL.length) return node.Description?.Engine?.Labels?.[key.slice(ENGINE_LABEL.length)] ?? ''
  return undefined
}

/**
 * Whether the node meets every constraint. A key Swarm does not know admits
 * no node, as in Swarm; the engine refuses malformed constraints on create.
 */
export function nodeMeets(constraints: readonly string[], node: Node): boolean {
  return constraints.every(expression => {
    const constraint = parse(expression)
    if (!constraint) return false
    const value = attribute(node, constraint.key)
    if (value === undefined) return false
    const same = value.toLowerCase() === constraint.value.toLowerCase()
    return constraint.equal ? same : !same
  })
}

/**
 * The nodes Swarm's global orchestrator gives a task of the service: up (not
 * down or disconnected), neither drained nor paused (a paused node gets no new
 * task), and meeting the constraints.
 */
export function globalNodes(constraints: readonly string[], nodes: Iterable<Node>): string[] {
  const owed: string[] = []
  for (const node of nodes) {
    if (GONE_NODE_STATES.has(node.Status.State)) continue
    const availability = node.Spec?.Availability ?? 'active'
    if (availability !== 'active') continue
    if (nodeMeets(constraints, node)) owed.push(node.ID)
  }
  return owed
}

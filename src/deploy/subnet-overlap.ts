// A task that failed because its network's subnet is still held elsewhere
// (moby#48069, moby#50011, swarmkit#2657): which network holds it, as far as
// the manager's list shows, and what to do. The deploy gives the networks it
// creates a free subnet (subnets.ts), so this is what is left: a network
// made by an older run, by hand, or whose subnet the compose file sets, and
// a network still being torn down on a node, which no list shows.
// Pure: the failure, the stack and GET /networks in, one sentence out.
import type { TaskFailure } from '../converge/verdict.js'
import type { NetworkSubnets } from '../ports.js'
import { STACK_LABEL } from '../swarm/model.js'
import { overlaps, parseCidr } from '../swarm/networks.js'

/**
 * The node's errors for a subnet it still has in use: libnetwork's IPAM
 * refusing the pool (engines 27 and 28), or the gateway address of the old
 * network still allocated there (swarmkit#2657, older engines).
 */
const OVERLAP = [/Pool overlaps with other one on this address space/i, /failed to allocate gateway \([^)]*\): Address already in use/i]

export function isSubnetOverlap(error: string): boolean {
  return OVERLAP.some(pattern => pattern.test(error))
}

/** Where the holder is, for the sentence. */
function holderText(network: NetworkSubnets, subnet: string): string {
  return network.scope === 'swarm'
    ? `the swarm network ${network.name} (${subnet})`
    : `${network.name} (${subnet}), a ${network.scope || 'local'} ${network.driver || ''} network of the manager`.replace('  ', ' ')
}

/** What to tell a person about a failure of this kind; undefined for any other failure. */
export function overlapAdvice(failure: TaskFailure, stack: string, networks: readonly NetworkSubnets[]): string | undefined {
  if (!isSubnetOverlap(failure.error)) return undefined
  const own = networks.filter(n => n.labels[STACK_LABEL] === stack && n.scope === 'swarm')
  const clashes = own.flatMap(network =>
    network.subnets.flatMap(subnet => {
      const mine = parseCidr(subnet)
      if (!mine) return []
      return networks
        .filter(other => other.id !== network.id)
        .flatMap(other => other.subnets.filter(s => parseCidr(s) !== undefined && overlaps(parseCidr(s)!, mine)).map(s => ({ network, subnet, other, s })))
    })
  )
  if (clashes.length > 0) {
    const named = clashes.map(c => `${c.network.name} (${c.subnet}) overlaps ${holderText(c.other, c.s)}`).join('; ')
    return (
      `The subnet is taken: ${named}. Remove the other network if it is on its way out, or give ${stack}'s network a subnet of its own ` +
      `(ipam.config subnet in the compose file) or move the other out of the swarm's address pool; then deploy again.`
    )
  }
  const subnets = own.flatMap(n => n.subnets.map(s => `${n.name} ${s}`))
  const which = subnets.length > 0 ? ` (${subnets.join(', ')})` : ''
  return (
    `No network the manager lists holds the subnet of ${stack}'s networks${which}: a network removed a moment ago (a stack removed just before this deploy) ` +
    `is most likely still being torn down on ${failure.node} with that subnet, which Swarm has already given out again (moby#48069). ` +
    `Wait until \`docker network ls\` on ${failure.node} no longer lists it (or remove it there), then deploy again.`
  )
}

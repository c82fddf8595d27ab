// Which subnet a network this deploy creates gets. Engines 27 and 28 can give
// a new overlay network the subnet of one that is still being torn down on a
// node (moby#48069, moby#50011, swarmkit#2657): the manager's allocator freed
// it when the network left its store, the node has not finished removing it,
// and every task of the new network on that node fails with "invalid pool
// request: Pool overlaps with other one on this address space". A deploy
// right after a `docker stack rm` is exactly that case. So the deploy names a
// subnet itself, one that no listed network holds, and chosen so that a
// subnet freed a moment ago (which no list shows any more) is unlikely.
// Pure: the pool and the subnets taken in, subnets out.
import type { AddressPool, NetworkSubnets } from '../ports.js'
import type { Cidr } from '../swarm/networks.js'
import { formatCidr, overlaps, parseCidr } from '../swarm/networks.js'

/** How many subnets a pool is searched over at most: a /8 cut in /24s is 65536. */
const MAX_CANDIDATES = 65_536
/**
 * The subnets chosen among: the lowest ones of the pool. Docker's own
 * allocator hands them out from the bottom, so a swarm's networks sit there
 * and people whose LAN is elsewhere in 10.0.0.0/8 have never met the rest;
 * staying within the first 1024 (10.0.0.0-10.3.255.0 for Docker's default
 * pool) keeps that while leaving room to choose.
 */
const WINDOW = 1024
/**
 * Free subnets not chosen: the lowest free ones. They are what the manager's
 * allocator gives the next network anyone creates, and a hole low in the pool
 * is a network that was removed, perhaps a moment ago (the lowest free subnet
 * when it was created, which is why it is low).
 */
const SKIP_LOWEST = 16

/**
 * `count` distinct subnets of the pool that overlap none of `taken`.
 *
 * Chosen at random among the free subnets of the window above the lowest
 * free ones, rather than the lowest free one as Docker's allocator does: a
 * subnet freed a moment ago is free by every list we can read, and the
 * lowest free one is the likeliest to be it (the allocator just gave it back,
 * and a deploy right after `docker stack rm` is the case that fails). Our own
 * earlier choices, freed by a stack removal, are spread over the window, so
 * picking one again is about one chance in the number of free subnets there
 * (~1000 for Docker's default pool, ~230 for a /16 in /24s). Fewer free
 * subnets than asked for gives fewer: those networks get Docker's choice.
 */
export function chooseSubnets(pool: AddressPool, taken: readonly string[], count: number, random: () => number = Math.random): string[] {
  if (count <= 0) return []
  const held = taken.map(parseCidr).filter((c): c is Cidr => c !== undefined)
  const free: Cidr[] = []
  let seen = 0
  for (const text of pool.pools) {
    const range = parseCidr(text)
    if (!range || range.prefix > pool.size) continue
    const step = 2 ** (32 - pool.size)
    const total = 2 ** (pool.size - range.prefix)
    for (let i = 0; i < total && seen < MAX_CANDIDATES; i++, seen++) {
      // Past the window only while there are not enough to choose among.
      if (seen >= WINDOW && free.length >= count + SKIP_LOWEST) break
      const candidate = { base: range.base + i * step, prefix: pool.size }
      if (!held.some(h => overlaps(h, candidate))) free.push(candidate)
    }
  }
  // Skip the lowest free ones only as far as there are others left to give.
  const choosable = free.slice(Math.min(SKIP_LOWEST, Math.max(0, free.length - count)))
  const chosen: string[] = []
  while (chosen.length < count && choosable.length > 0) {
    const index = Math.min(choosable.length - 1, Math.floor(random() * choosable.length))
    chosen.push(formatCidr(choosable.splice(index, 1)[0]!))
  }
  return chosen
}

/** Every subnet held by a listed network, the node's own networks included (a bridge in the pool is just as much in the way). */
export function takenSubnets(networks: readonly NetworkSubnets[]): string[] {
  return networks.flatMap(n => n.subnets)
}

// The swarm's networks and address pool as the Engine API gives them
// (GET /networks, GET /info), and IPv4 CIDR arithmetic. Pure: the recorded
// answers of engines 20.10 (API 1.41) and 28.5 (API 1.51) are its tests.
import type { AddressPool, NetworkSubnets } from '../ports.js'

/** Docker's defaults when a swarm is initialised without `--default-addr-pool` (moby's `ipamutils`). */
export const DOCKER_DEFAULT_POOL: AddressPool = { pools: ['10.0.0.0/8'], size: 24, defaulted: true }

export interface Cidr {
  /** The first address, as an unsigned 32-bit number. */
  base: number
  prefix: number
}

/** An IPv4 CIDR, normalised to its network address; undefined for anything else (IPv6 included). */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim())
  if (!match) return undefined
  const octets = match.slice(1, 5).map(Number)
  const prefix = Number(match[5])
  if (octets.some(o => o > 255) || prefix > 32) return undefined
  const address = octets.reduce((n, o) => n * 256 + o, 0)
  const block = 2 ** (32 - prefix)
  return { base: address - (address % block), prefix }
}

export function formatCidr({ base, prefix }: Cidr): string {
  return `${[24, 16, 8, 0].map(shift => Math.floor(base / 2 ** shift) % 256).join('.')}/${prefix}`
}

/** Whether two CIDRs share an address: the shorter prefix's block holds the other's start. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  const block = 2 ** (32 - Math.min(a.prefix, b.prefix))
  return Math.floor(a.base / block) === Math.floor(b.base / block)
}

/**
 * The pool from GET /info: `Swarm.Cluster.DefaultAddrPool` and `SubnetSize`
 * (API 1.39 and later; both engines here answer them). Absent, empty or
 * unreadable values fall back to Docker's defaults, which is what the swarm
 * used if it was initialised before those fields existed.
 */
export function addressPoolOf(info: unknown): AddressPool {
  const cluster = (info as { Swarm?: { Cluster?: { DefaultAddrPool?: unknown; SubnetSize?: unknown } | null } } | null)?.Swarm?.Cluster
  const listed = Array.isArray(cluster?.DefaultAddrPool) ? cluster.DefaultAddrPool.filter((p): p is string => typeof p === 'string') : []
  const pools = listed.filter(p => parseCidr(p) !== undefined)
  const size = typeof cluster?.SubnetSize === 'number' && Number.isInteger(cluster.SubnetSize) ? cluster.SubnetSize : undefined
  if (pools.length === 0 || size === undefined || size < 1 || size > 30) return DOCKER_DEFAULT_POOL
  return { pools, size, defaulted: false }
}

/** GET /networks as data: each network's ID, name, scope, driver, labels and the subnets of its IPAM config. */
export function networkSubnetsOf(listed: unknown): NetworkSubnets[] {
  if (!Array.isArray(listed)) return []
  type Listed = {
    Id?: string
    Name?: string
    Scope?: string
    Driver?: string
    Labels?: Record<string, string> | null
    IPAM?: { Config?: Array<{ Subnet?: string }> | null } | null
  }
  return (listed as Listed[]).map(n => ({
    id: n.Id ?? '',
    name: n.Name ?? '',
    scope: n.Scope ?? '',
    driver: n.Driver ?? '',
    labels: n.Labels ?? {},
    subnets: (n.IPAM?.Config ?? []).map(c => c.Subnet ?? '').filter(s => s !== '')
  }))
}

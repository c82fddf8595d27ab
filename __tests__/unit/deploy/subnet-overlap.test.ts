// A task refused its network's subnet is explained by name: the network that
// holds it where the manager lists one, or else the node still tearing an
// old network down, and what to do.
import { describe, expect, it } from '@jest/globals'
import type { TaskFailure } from '../../../src/converge/verdict.js'
import { isSubnetOverlap, overlapAdvice } from '../../../src/deploy/subnet-overlap.js'
import type { NetworkSubnets } from '../../../src/ports.js'

const failure = (error: string): TaskFailure => ({
  taskId: 'tk1abcdefabcdef',
  service: 'shop_web',
  slot: 1,
  node: 'swl-wrk',
  state: 'rejected',
  error,
  exitCode: undefined,
  containerId: undefined
})
const network = (name: string, subnet: string, more: Partial<NetworkSubnets> = {}): NetworkSubnets => ({
  id: `id-${name}`,
  name,
  scope: 'swarm',
  driver: 'overlay',
  labels: {},
  subnets: [subnet],
  ...more
})
const POOL_ERROR = 'invalid pool request: Pool overlaps with other one on this address space'
const shop = network('shop_default', '10.201.3.0/24', { labels: { 'com.docker.stack.namespace': 'shop' } })

describe('isSubnetOverlap', () => {
  it("knows the node's words for a subnet still in use, and nothing else", () => {
    expect(isSubnetOverlap(POOL_ERROR)).toBe(true)
    expect(isSubnetOverlap('failed to allocate gateway (10.0.0.1): Address already in use')).toBe(true)
    expect(isSubnetOverlap('task: non-zero exit (1)')).toBe(false)
    expect(isSubnetOverlap('No such image: x')).toBe(false)
  })
})

describe('overlapAdvice', () => {
  it('names the listed network that holds the subnet', () => {
    const advice = overlapAdvice(failure(POOL_ERROR), 'shop', [shop, network('old_default', '10.201.3.0/24'), network('ingress', '10.201.0.0/24')])
    expect(advice).toContain('shop_default (10.201.3.0/24) overlaps the swarm network old_default (10.201.3.0/24)')
    expect(advice).toContain('Remove the other network')
    expect(advice).not.toContain('ingress')
  })

  it("names a local network of the manager (moby#50011's bridge)", () => {
    const advice = overlapAdvice(failure(POOL_ERROR), 'shop', [shop, network('bridge', '10.201.0.0/16', { scope: 'local', driver: 'bridge' })])
    expect(advice).toContain('bridge (10.201.0.0/16), a local bridge network of the manager')
  })

  it('says that a node still tears down a removed network when no listed network holds it, and which node', () => {
    const advice = overlapAdvice(failure(POOL_ERROR), 'shop', [shop, network('ingress', '10.201.0.0/24')])
    expect(advice).toContain("No network the manager lists holds the subnet of shop's networks (shop_default 10.201.3.0/24)")
    expect(advice).toContain('still being torn down on swl-wrk')
    expect(advice).toContain('`docker network ls` on swl-wrk')
  })

  it('says nothing of another failure', () => {
    expect(overlapAdvice(failure('task: non-zero exit (1)'), 'shop', [shop])).toBeUndefined()
  })
})

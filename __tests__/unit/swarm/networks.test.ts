// The swarm's address pool and networks as engines answer them: recorded
// from the lab on engine 28.5 (API 1.51), the manager's /info and /networks
// and a worker's /info (which has no Cluster), and the API 1.41 form (20.10).
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { addressPoolOf, DOCKER_DEFAULT_POOL, formatCidr, networkSubnetsOf, overlaps, parseCidr } from '../../../src/swarm/networks.js'

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/networks')
const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'))

describe('addressPoolOf', () => {
  it("reads the swarm's pool and subnet size from a manager's /info (28.5, API 1.51)", () => {
    expect(addressPoolOf(fixture('info-28-manager.json'))).toEqual({ pools: ['10.201.0.0/16'], size: 24, defaulted: false })
  })

  it("falls back to Docker's defaults where /info does not say: a worker (no Cluster), an engine before API 1.39, a null or empty pool", () => {
    expect(addressPoolOf(fixture('info-28-worker.json'))).toEqual(DOCKER_DEFAULT_POOL)
    expect(addressPoolOf({ Swarm: { Cluster: { ID: 'x' } } })).toEqual(DOCKER_DEFAULT_POOL)
    expect(addressPoolOf({ Swarm: { Cluster: { DefaultAddrPool: null, SubnetSize: 0 } } })).toEqual(DOCKER_DEFAULT_POOL)
    expect(addressPoolOf({ Swarm: { Cluster: { DefaultAddrPool: [], SubnetSize: 24 } } })).toEqual(DOCKER_DEFAULT_POOL)
    expect(addressPoolOf({ Swarm: { Cluster: { DefaultAddrPool: ['10.9.0.0/16'] } } })).toEqual(DOCKER_DEFAULT_POOL)
    expect(addressPoolOf(null)).toEqual(DOCKER_DEFAULT_POOL)
  })

  it('reads the API 1.41 form (engine 20.10: the same fields since 1.39), and several pools in order', () => {
    const info = {
      ServerVersion: '20.10.24+dfsg1',
      Swarm: { Cluster: { DataPathPort: 4789, DefaultAddrPool: ['10.20.0.0/16', '10.30.0.0/16'], SubnetSize: 26 } }
    }
    expect(addressPoolOf(info)).toEqual({ pools: ['10.20.0.0/16', '10.30.0.0/16'], size: 26, defaulted: false })
  })
})

describe('networkSubnetsOf', () => {
  it("reads the manager's /networks (28.5): swarm networks with their subnets, the node's own with theirs or none", () => {
    const networks = networkSubnetsOf(fixture('networks-28-manager.json'))
    expect(networks.find(n => n.name === 'ingress')).toEqual(
      expect.objectContaining({ scope: 'swarm', driver: 'overlay', subnets: ['10.201.0.0/24'], labels: {} })
    )
    expect(networks.find(n => n.name === 'bridge')).toEqual(expect.objectContaining({ scope: 'local', driver: 'bridge', subnets: ['172.30.1.0/24'] }))
    expect(networks.find(n => n.name === 'host')).toEqual(expect.objectContaining({ scope: 'local', subnets: [] }))
    const stack = networks.find(n => n.labels['com.docker.stack.namespace'] !== undefined)
    expect(stack?.name).toBe(`${stack?.labels['com.docker.stack.namespace']}_default`)
    expect(stack?.subnets).toEqual([expect.stringMatching(/^10\.201\.\d+\.0\/24$/)])
  })

  it('reads a network without IPAM config, and nothing from an answer that is not a list', () => {
    expect(networkSubnetsOf([{ Id: 'a', Name: 'n', Scope: 'swarm', Driver: 'overlay', IPAM: { Config: null }, Labels: null }])).toEqual([
      { id: 'a', name: 'n', scope: 'swarm', driver: 'overlay', labels: {}, subnets: [] }
    ])
    expect(networkSubnetsOf({ message: 'x' })).toEqual([])
  })
})

describe('CIDRs', () => {
  it('parse to their network address, print back, and overlap when one holds the other', () => {
    expect(formatCidr(parseCidr('10.201.3.7/24')!)).toBe('10.201.3.0/24')
    expect(parseCidr('fd00::/64')).toBeUndefined()
    expect(parseCidr('10.300.0.0/16')).toBeUndefined()
    expect(overlaps(parseCidr('10.201.0.0/16')!, parseCidr('10.201.3.0/24')!)).toBe(true)
    expect(overlaps(parseCidr('10.201.3.0/24')!, parseCidr('10.201.4.0/24')!)).toBe(false)
    expect(overlaps(parseCidr('0.0.0.0/0')!, parseCidr('255.255.255.0/24')!)).toBe(true)
  })
})

// The subnet a new network gets: free of every listed network, inside the
// swarm's pool, never the lowest free ones (the allocator's next choice, and
// where a subnet freed a moment ago sits), and spread by chance over the
// rest so that a stack removed a moment ago is unlikely to give its own back.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chooseSubnets, takenSubnets } from '../../../src/deploy/subnets.js'
import { addressPoolOf, networkSubnetsOf, overlaps, parseCidr } from '../../../src/swarm/networks.js'

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/networks')
const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'))

const LAB = { pools: ['10.201.0.0/16'], size: 24, defaulted: false }
const DEFAULT = { pools: ['10.0.0.0/8'], size: 24, defaulted: true }
/** A random source that walks through the given values. */
const sequence = (...values: number[]) => {
  let i = 0
  return () => values[i++ % values.length]!
}
const third = (subnet: string): number => Number(subnet.split('.')[2])

describe('chooseSubnets', () => {
  it("gives a subnet of the lab's pool that none of its recorded networks holds (engine 28.5's /info and /networks)", () => {
    const pool = addressPoolOf(fixture('info-28-manager.json'))
    const taken = takenSubnets(networkSubnetsOf(fixture('networks-28-manager.json')))
    expect(taken).toEqual(expect.arrayContaining(['10.201.0.0/24', '172.30.1.0/24']))
    for (const r of [0, 0.25, 0.5, 0.75, 0.9999]) {
      const [subnet] = chooseSubnets(pool, taken, 1, () => r)
      expect(subnet).toMatch(/^10\.201\.\d+\.0\/24$/)
      expect(taken).not.toContain(subnet)
    }
  })

  it('never gives a subnet that a listed network holds, nor one overlapping it', () => {
    const taken = ['10.201.0.0/24', '10.201.1.0/24', '10.201.16.0/20', '172.30.1.0/24']
    for (let r = 0; r < 1; r += 0.01) {
      const [subnet] = chooseSubnets(LAB, taken, 1, () => r)
      expect(subnet).toMatch(/^10\.201\.\d+\.0\/24$/)
      expect(taken.some(t => overlaps(parseCidr(t)!, parseCidr(subnet!)!))).toBe(false)
    }
  })

  it('skips the 16 lowest free subnets: the next the allocator gives, and the likeliest to have been freed a moment ago', () => {
    // 10.201.0-2 in use; a stack removed a moment ago left 10.201.3.0/24 free, listed by nothing.
    const taken = ['10.201.0.0/24', '10.201.1.0/24', '10.201.2.0/24']
    const lowest = chooseSubnets(LAB, taken, 1, () => 0)
    expect(lowest).toEqual(['10.201.19.0/24'])
    const highest = chooseSubnets(LAB, taken, 1, () => 0.9999)
    expect(highest).toEqual(['10.201.255.0/24'])
  })

  it('spreads its choices over the free subnets, so one it gave before comes back about once in the number of them', () => {
    const picks = new Set<number>()
    let seed = 7
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31)
    for (let i = 0; i < 200; i++) picks.add(third(chooseSubnets(LAB, [], 1, random)[0]!))
    expect(Math.min(...picks)).toBeGreaterThanOrEqual(16)
    expect(picks.size).toBeGreaterThan(100)
  })

  it('gives distinct subnets for several networks', () => {
    const subnets = chooseSubnets(LAB, [], 5, sequence(0.5))
    expect(new Set(subnets).size).toBe(5)
  })

  it("stays within the first 1024 subnets of Docker's default pool, where swarms keep their networks", () => {
    for (const r of [0, 0.5, 0.9999]) {
      const [subnet] = chooseSubnets(DEFAULT, ['10.0.0.0/24'], 1, () => r)
      expect(subnet).toMatch(/^10\.[0-3]\.\d+\.0\/24$/)
    }
  })

  it('goes past that window when it is full', () => {
    const taken = ['10.0.0.0/14']
    expect(chooseSubnets(DEFAULT, taken, 1, () => 0)).toEqual(['10.4.16.0/24'])
  })

  it('skips fewer of the lowest free ones when few are free, and gives fewer than asked when the pool is full', () => {
    const small = { pools: ['10.9.0.0/22'], size: 24, defaulted: false }
    expect(chooseSubnets(small, ['10.9.0.0/24'], 2, () => 0).sort()).toEqual(['10.9.2.0/24', '10.9.3.0/24'])
    expect(chooseSubnets(small, ['10.9.0.0/23', '10.9.2.0/24'], 2, () => 0)).toEqual(['10.9.3.0/24'])
    expect(chooseSubnets(small, ['10.9.0.0/16'], 1, () => 0)).toEqual([])
  })

  it('walks every pool in order and ignores pools it cannot cut', () => {
    const pools = { pools: ['fd00::/64', '10.9.0.0/24', '10.8.0.0/23'], size: 24, defaulted: false }
    // 10.9.0.0/24 is too small for a /24 beyond itself; it is taken; the /23's two follow.
    expect(chooseSubnets(pools, ['10.9.0.0/24'], 1, () => 0)).toEqual(['10.8.1.0/24'])
  })
})

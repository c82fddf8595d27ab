// Which networks a deploy creates and gives a subnet, read as the docker
// CLI reads the compose files, and the edits that put the subnet in the
// copy: only there, and nothing else changed.
import { describe, expect, it } from '@jest/globals'
import * as YAML from 'yaml'
import { networksToCreate, planSubnets, subnetEdits } from '../../../src/deploy/stack-networks.js'
import { applyEdits } from '../../../src/deploy/stack-objects.js'
import type { NetworkSubnets } from '../../../src/ports.js'

const file = (text: string, path = '/w/docker-compose.yml') => ({ path, text })
const none = new Set<string>()
const POOL = { pools: ['10.201.0.0/16'], size: 24, defaulted: false }

/** The compose document after the edits, as data. */
function edited(files: Array<{ path: string; text: string }>, subnets: Array<{ key: string; subnet: string }>): unknown[] {
  const { edits, skipped } = subnetEdits(files, subnets)
  expect(skipped).toEqual([])
  return files.map((f, i) => YAML.parse(applyEdits(f.text, edits[i]!)))
}

describe('networksToCreate', () => {
  it('is the default network when a service names none', () => {
    expect(networksToCreate([file('services:\n  web:\n    image: x\n')], 'shop', none)).toEqual([{ key: 'default', name: 'shop_default' }])
  })

  it('is each network a service uses, by its own name where it has one, and not one that no service uses', () => {
    const text = `services:
  web:
    image: x
    networks: [front, back]
  db:
    image: y
    networks:
      back:
        aliases: [database]
networks:
  front:
    driver: overlay
    attachable: true
  back:
    name: shop-backend
  unused: {}
`
    expect(networksToCreate([file(text)], 'shop', none)).toEqual([
      { key: 'back', name: 'shop-backend' },
      { key: 'front', name: 'shop_front' }
    ])
  })

  it('leaves external networks, those with their own ipam, IPv6, another driver or a name from a variable, and those already on the swarm', () => {
    const text = `services:
  web:
    image: x
    networks: [a, b, c, d, e, f, g, h]
networks:
  a: {external: true}
  b:
    external:
      name: proxy
  c:
    ipam:
      config:
        - subnet: 10.99.0.0/24
  d: {driver: macvlan}
  e: {name: "\${NET}"}
  f:
  g: {external: false}
  h: {enable_ipv6: true}
`
    expect(networksToCreate([file(text)], 'shop', new Set(['shop_f']))).toEqual([{ key: 'g', name: 'shop_g' }])
  })

  it('reads the last entry of a network, as docker merges files', () => {
    const base = file('services:\n  web:\n    image: x\n    networks: [a, b]\nnetworks:\n  a: {name: shared}\n  b: {external: true}\n')
    const override = file('networks:\n  a: {attachable: true}\n  b: {}\n', '/w/override.yml')
    expect(networksToCreate([base, override], 'shop', none)).toEqual([
      { key: 'a', name: 'shop_a' },
      { key: 'b', name: 'shop_b' }
    ])
  })

  it('reads every file: a network declared in one and used in another, a service given networks by an override', () => {
    const base = file('services:\n  web:\n    image: x\n  db:\n    image: y\n')
    const override = file('services:\n  db:\n    networks: [back]\nnetworks:\n  back: {}\n', '/w/override.yml')
    expect(networksToCreate([base, override], 'shop', none)).toEqual([
      { key: 'back', name: 'shop_back' },
      { key: 'default', name: 'shop_default' }
    ])
  })

  it('follows merge keys and anchors as docker does', () => {
    const text = `x-net: &net
  networks: [front]
services:
  web:
    <<: *net
    image: x
networks:
  front: {}
`
    expect(networksToCreate([file(text)], 'shop', none)).toEqual([{ key: 'front', name: 'shop_front' }])
  })

  it('gives none for a file that does not parse: docker reports it', () => {
    expect(networksToCreate([file('services: [\n')], 'shop', none)).toEqual([])
  })
})

describe('subnetEdits', () => {
  const IPAM = { config: [{ subnet: '10.201.40.0/24' }] }

  it('adds ipam to a block entry, a flow entry, an empty entry and a null one', () => {
    const text = `services:
  web:
    image: x
    networks: [a, b, c, d, e]
networks:
  a:
    driver: overlay
  b: {attachable: true}
  c: {}
  d:
  e: ~
`
    const subnets = ['a', 'b', 'c', 'd', 'e'].map(key => ({ key, subnet: '10.201.40.0/24' }))
    const [doc] = edited([file(text)], subnets) as Array<{ networks: Record<string, unknown> }>
    expect(doc!.networks).toEqual({
      a: { ipam: IPAM, driver: 'overlay' },
      b: { ipam: IPAM, attachable: true },
      c: { ipam: IPAM },
      d: { ipam: IPAM },
      e: { ipam: IPAM }
    })
  })

  it('declares the implicit default network: in the networks map there is, or as a new top-level key', () => {
    const withMap = 'services:\n  web:\n    image: x\nnetworks:\n  other: {}\n'
    expect(edited([file(withMap)], [{ key: 'default', subnet: '10.201.40.0/24' }])).toEqual([
      { services: { web: { image: 'x' } }, networks: { default: { ipam: IPAM }, other: {} } }
    ])
    for (const text of ['services:\n  web:\n    image: x\n', 'services:\n  web:\n    image: x', 'services:\r\n  web:\r\n    image: x\r\n# end\r\n']) {
      expect(edited([file(text)], [{ key: 'default', subnet: '10.201.40.0/24' }])).toEqual([
        { services: { web: { image: 'x' } }, networks: { default: { ipam: IPAM } } }
      ])
    }
  })

  it('edits the last file that declares the network: docker takes that entry whole', () => {
    const base = file('services:\n  web:\n    image: x\n    networks: [front]\nnetworks:\n  front: {driver: overlay}\n')
    const override = file('networks:\n  front:\n    attachable: true\n', '/w/override.yml')
    const [first, second] = edited([base, override], [{ key: 'front', subnet: '10.201.40.0/24' }])
    expect(first).toEqual(YAML.parse(base.text))
    expect(second).toEqual({ networks: { front: { ipam: IPAM, attachable: true } } })
  })

  it('leaves an entry shared through an anchor or merged in, and a file that ends its document, to Docker', () => {
    const anchored = 'services:\n  web:\n    image: x\n    networks: [a, b]\nnetworks:\n  a: &n {attachable: true}\n  b: *n\n'
    expect(subnetEdits([file(anchored)], [{ key: 'a', subnet: '10.201.40.0/24' }]).skipped).toEqual(['a'])
    expect(subnetEdits([file(anchored)], [{ key: 'b', subnet: '10.201.40.0/24' }]).skipped).toEqual(['b'])
    const ended = 'services:\n  web:\n    image: x\n...\n'
    expect(subnetEdits([file(ended)], [{ key: 'default', subnet: '10.201.40.0/24' }]).skipped).toEqual(['default'])
  })

  it('keeps every other byte of the file as it was', () => {
    const text =
      'services:\n  web:\n    image: x\n    environment:\n      A: 0400\n      B: 1:20\n    networks: [front]\nnetworks:\n  front:\n    driver: overlay\n'
    const { edits } = subnetEdits([file(text)], [{ key: 'front', subnet: '10.201.40.0/24' }])
    expect(applyEdits(text, edits[0]!)).toBe(text.replace('    driver: overlay', '    ipam: {config: [{subnet: "10.201.40.0/24"}]}\n    driver: overlay'))
  })
})

describe('planSubnets', () => {
  const listed: NetworkSubnets[] = [
    { id: 'i', name: 'ingress', scope: 'swarm', driver: 'overlay', labels: {}, subnets: ['10.201.0.0/24'] },
    { id: 'b', name: 'bridge', scope: 'local', driver: 'bridge', labels: {}, subnets: ['172.30.1.0/24'] }
  ]

  it('gives each network a distinct free subnet in its file, and says which', () => {
    const text = 'services:\n  web:\n    image: x\n    networks: [front, back]\nnetworks:\n  front: {}\n  back: {}\n'
    const files = [file(text)]
    const create = networksToCreate(files, 'shop', new Set(listed.map(n => n.name)))
    const planned = planSubnets(files, create, POOL, listed, () => 0)
    expect(planned.assigned).toEqual([
      { name: 'shop_back', subnet: '10.201.17.0/24' },
      { name: 'shop_front', subnet: '10.201.18.0/24' }
    ])
    expect(planned.unassigned).toEqual([])
    const doc = YAML.parse(planned.texts[0]!) as { networks: Record<string, { ipam: { config: Array<{ subnet: string }> } }> }
    expect(doc.networks.back!.ipam.config[0]!.subnet).toBe('10.201.17.0/24')
    expect(doc.networks.front!.ipam.config[0]!.subnet).toBe('10.201.18.0/24')
  })

  it('changes no file when there is nothing to create, and leaves to Docker what has no free subnet', () => {
    const files = [file('services:\n  web:\n    image: x\n')]
    expect(planSubnets(files, [], POOL, listed).texts).toEqual([undefined])
    const full = planSubnets(files, [{ key: 'default', name: 'shop_default' }], { ...POOL, pools: ['10.201.0.0/24'] }, listed)
    expect(full).toEqual({ texts: [undefined], assigned: [], unassigned: ['shop_default'] })
  })
})

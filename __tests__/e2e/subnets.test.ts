// A stack deployed right after another stack's removal (moby#48069): on
// engines 27 and 28 the manager can give the new stack's network the subnet
// of the removed one while a node still tears that down, and the new tasks
// there fail with "Pool overlaps with other one on this address space". The
// deploy gives each network it creates a free subnet of its own, so ten such
// deploys in a row all converge. The compose copy with the subnet in means
// to the docker CLI's own loader what the original means, plus the subnet.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as YAML from 'yaml'
import { networksToCreate, planSubnets } from '../../src/deploy/stack-networks.js'
import type { Lab } from './harness.js'
import { docker, loadLab, removeStack, runAction, sshInputs } from './harness.js'
import { networkSubnet, SUBNET_COMPOSE } from './support/subnet.js'

jest.setTimeout(600_000)

const run = Date.now().toString(36)
const ROUNDS = 10
const stackName = (i: number): string => `e2e-sn-${run}-${i}`
const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-subnet-'))

let lab: Lab

afterAll(async () => {
  if (lab) for (let i = 0; i <= ROUNDS; i++) await removeStack(lab, stackName(i))
  rmSync(dir, { recursive: true, force: true })
})

/** What the docker CLI's loader makes of compose files (no engine needed). */
function stackConfig(files: string[]): Record<string, unknown> {
  const out = execFileSync('docker', ['stack', 'config', ...files.flatMap(f => ['--compose-file', f])], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, BASE_IMAGE: 'reg/app:1' },
    encoding: 'utf8'
  })
  return YAML.parse(out) as Record<string, unknown>
}

describe('the compose copy with subnets', () => {
  it('reads to docker stack config as the original plus each new network’s ipam subnet', () => {
    const base = `services:
  web:
    image: \${BASE_IMAGE}
    networks: [front, back]
  job:
    image: \${BASE_IMAGE}
networks:
  front:
    driver: overlay
    attachable: true
  back:
`
    const override = `services:
  job:
    environment: {A: "1"}
networks:
  front:
    labels: [x=y]
`
    const files = [
      { path: path.join(dir, 'base.yml'), text: base },
      { path: path.join(dir, 'override.yml'), text: override }
    ]
    const create = networksToCreate(files, 'shop', new Set())
    expect(create.map(n => n.key)).toEqual(['back', 'default', 'front'])
    const planned = planSubnets(files, create, { pools: ['10.201.0.0/16'], size: 24, defaulted: false }, [], () => 0.5)
    expect(planned.unassigned).toEqual([])
    for (const [i, file] of files.entries()) {
      writeFileSync(file.path, file.text)
      writeFileSync(path.join(dir, `copy-${i}.yml`), planned.texts[i] ?? file.text)
    }
    const original = stackConfig(files.map(f => f.path))
    const copy = stackConfig(files.map((_, i) => path.join(dir, `copy-${i}.yml`)))
    const subnetOf = new Map(planned.assigned.map(a => [a.name.slice('shop_'.length), a.subnet]))
    const networks = original.networks as Record<string, Record<string, unknown> | null>
    const expected = {
      ...original,
      networks: {
        ...Object.fromEntries(Object.entries(networks).map(([key, entry]) => [key, { ...entry, ipam: { config: [{ subnet: subnetOf.get(key) }] } }])),
        default: { ipam: { config: [{ subnet: subnetOf.get('default') }] } }
      }
    }
    expect(copy).toEqual(expected)
    // Docker's merge takes the override's entry whole (the base's driver goes): the subnet went into that one.
    expect((copy.networks as Record<string, unknown>).front).toEqual({ labels: { x: 'y' }, ipam: { config: [{ subnet: subnetOf.get('front') }] } })
  })
})

describe('a stack deployed right after another was removed, on the lab swarm', () => {
  beforeAll(() => {
    lab = loadLab()
    writeFileSync(path.join(dir, 'docker-compose.yml'), SUBNET_COMPOSE)
  })

  const inputs = (stack: string): Record<string, string> => ({
    ...sshInputs(lab),
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    registry: lab.registry,
    stack,
    'compose-file': 'docker-compose.yml',
    env: `BASE_IMAGE=${lab.registry}/${lab.baseImage}`,
    timeout: '45s'
  })

  it(`converges ${ROUNDS} times in a row, each deploy started the moment the stack before it was removed`, async () => {
    const first = await runAction(lab, inputs(stackName(0)), { cwd: dir })
    expect(first.outputs.status).toBe('converged')
    const rounds: Array<{ stack: string; status: string | undefined; seconds: number; subnet: string; removedSubnet: string; said: string | undefined }> = []
    for (let i = 1; i <= ROUNDS; i++) {
      const removed = stackName(i - 1)
      const removedSubnet = networkSubnet(lab, `${removed}_default`)
      docker(lab, ['stack', 'rm', removed])
      const result = await runAction(lab, inputs(stackName(i)), { cwd: dir })
      const said = new RegExp(`network ${stackName(i)}_default → subnet (\\S+),`).exec(result.log)?.[1]
      rounds.push({
        stack: stackName(i),
        status: result.outputs.status,
        seconds: result.seconds,
        subnet: networkSubnet(lab, `${stackName(i)}_default`),
        removedSubnet,
        said
      })
      if (result.outputs.status !== 'converged') process.stdout.write(`round ${i}: ${result.outputs.status}\n${result.log.split('\n').slice(-25).join('\n')}\n`)
    }
    process.stdout.write(
      rounds.map((r, i) => `round ${i + 1}: ${r.status} in ${r.seconds.toFixed(1)}s, subnet ${r.subnet} (the removed stack's: ${r.removedSubnet})`).join('\n') +
        '\n'
    )
    expect(rounds.filter(r => r.status !== 'converged').map(r => `${r.stack}: ${r.status}`)).toEqual([])
    for (const round of rounds) {
      // The subnet the deploy said it gave is the one the network has, and not the one just freed.
      expect(round.said).toBe(round.subnet)
      expect(round.subnet).not.toBe(round.removedSubnet)
      expect(round.subnet).toMatch(/^10\.201\.\d+\.0\/24$/)
    }
  })
})

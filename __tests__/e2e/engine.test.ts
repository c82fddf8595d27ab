// What differs between the lab's two engines (LAB_ENGINE=28 and 20, lab/README.md
// "20.10 and 28.5"), and what the judge reads that does not: the same file runs
// on both in CI, and says which engine it expects what of.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Lab } from './harness.js'
import { docker, loadLab } from './harness.js'

const run = Date.now().toString(36)
const SERVICES = { missing: `e2e-engine-missing-${run}`, exit: `e2e-engine-exit-${run}`, unhealthy: `e2e-engine-unhealthy-${run}` }

let lab: Lab
let v28: boolean

beforeAll(() => {
  lab = loadLab()
  v28 = lab.engine === '28'
})

afterAll(() => {
  const left = Object.values(SERVICES).filter(name => docker(lab, ['service', 'ls', '-q', '--filter', `name=${name}`]).trim() !== '')
  if (left.length > 0) docker(lab, ['service', 'rm', ...left])
})

/** `docker version` of one of the lab's daemons: its version and API version. */
const serverOf = (host: string): string => docker(lab, ['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'], host).trim()

/** The latest task of a service once it has ended, with its state and error as `docker service ps` shows them. */
async function endedTask(service: string): Promise<{ state: string; error: string }> {
  for (const until = Date.now() + 90_000; Date.now() < until; await new Promise(resolve => setTimeout(resolve, 500))) {
    const [line] = docker(lab, ['service', 'ps', '--no-trunc', '--format', '{{.CurrentState}}|{{.Error}}', service]).trim().split('\n')
    const [state = '', error = ''] = (line ?? '').split('|')
    if (/^(Failed|Rejected|Complete)/.test(state)) return { state: state.split(' ')[0]!, error }
  }
  throw new Error(`${service}: no task ended within 90 s`)
}

describe('the engine the lab runs', () => {
  it('is the one LAB_ENGINE named, on all three daemons: 28.5 (API 1.51) or 20.10 (API 1.41)', () => {
    const expected = v28 ? /^28\.5\.\d+\S* 1\.51$/ : /^20\.10\.\d+\S* 1\.41$/
    for (const host of [lab.managerDockerHost, lab.workerDockerHost, lab.runnerDockerHost]) expect(serverOf(host)).toMatch(expected)
    expect(lab.engineVersion).toBe(serverOf(lab.managerDockerHost).split(' ')[0])
  })

  it('gives the runner buildx and compose whatever DOCKER_CONFIG says, and the containerd image store, on 28 only', () => {
    const config = mkdtempSync(path.join(os.tmpdir(), 'sd-engine-config-'))
    try {
      const cli = (args: string[]): string =>
        execFileSync('docker', args, {
          env: { ...process.env, DOCKER_HOST: lab.runnerDockerHost, DOCKER_CONFIG: config },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe']
        })
      const works = (args: string[]): boolean => {
        try {
          cli(args)
          return true
        } catch {
          return false
        }
      }
      expect({ buildx: works(['buildx', 'version']), compose: works(['compose', 'version']) }).toEqual({ buildx: v28, compose: v28 })
      // The containerd store's overlay snapshotter is "overlayfs"; the graph driver is overlay2.
      expect(cli(['info', '--format', '{{.Driver}}']).trim()).toBe(v28 ? 'overlayfs' : 'overlay2')
    } finally {
      rmSync(config, { recursive: true, force: true })
    }
  })

  it("names the base image by its manifest on 28's runner, by its config on the nodes (one ID everywhere on 20.10)", () => {
    const id = (host: string): string => docker(lab, ['image', 'inspect', '--format', '{{.Id}}', lab.baseImage], host).trim()
    expect(id(lab.managerDockerHost)).toBe(id(lab.workerDockerHost))
    if (v28) expect(id(lab.runnerDockerHost)).not.toBe(id(lab.managerDockerHost))
    else expect(id(lab.runnerDockerHost)).toBe(id(lab.managerDockerHost))
  })
})

describe('what Swarm tells the judge, alike on both engines', () => {
  beforeAll(() => {
    const create = (name: string, args: string[]): string =>
      docker(lab, ['service', 'create', '--quiet', '--detach', '--name', name, '--restart-condition', 'none', ...args])
    create(SERVICES.missing, [`${lab.registry}/e2e/engine-none-${run}:1`])
    create(SERVICES.exit, [lab.baseImage, 'sh', '-c', 'exit 3'])
    create(SERVICES.unhealthy, ['--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1', lab.baseImage, 'sleep', '60'])
  })

  it('task states and errors: rejected "No such image", "non-zero exit (3)", and an unhealthy container killed (137)', async () => {
    expect(await endedTask(SERVICES.missing)).toEqual({ state: 'Rejected', error: `"No such image: ${lab.registry}/e2e/engine-none-${run}:1"` })
    expect(await endedTask(SERVICES.exit)).toEqual({ state: 'Failed', error: '"task: non-zero exit (3)"' })
    expect(await endedTask(SERVICES.unhealthy)).toEqual({ state: 'Failed', error: '"task: non-zero exit (137): dockerexec: unhealthy container"' })
  }, 300_000)
})

// Cancel and child environments: what a run leaves is stopped and removed on
// cancel, and every docker child starts from a minimal environment.
import { describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { childEnvironment, ExecDockerCli } from '../../src/docker-cli.js'
import { groupAlive, isOurs, removePaths, RunLeftovers } from '../../src/leftovers.js'

const alive = groupAlive

describe('RunLeftovers', () => {
  it('on cleanUp stops every recorded process group and removes every recorded path, in a few seconds', async () => {
    const saved: string[][] = []
    const leftovers = new RunLeftovers(paths => void saved.push(paths))
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-'))
    writeFileSync(path.join(dir, 'config.json'), '{"auths":{}}')
    const release = leftovers.path(dir)
    // A shell that ignores SIGTERM, with a child of its own: only SIGKILL of the group ends both.
    const child = spawn('sh', ['-c', "trap '' TERM; sleep 60 & wait"], { detached: true, stdio: 'ignore' })
    leftovers.processGroup(child.pid!)
    await new Promise(resolve => setTimeout(resolve, 100))
    const started = Date.now()
    await leftovers.cleanUp()
    expect(Date.now() - started).toBeLessThan(3_000)
    if (child.exitCode === null && child.signalCode === null) await new Promise(resolve => child.on('exit', resolve))
    expect(child.signalCode).toBe('SIGKILL')
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(alive(child.pid!)).toBe(false)
    expect(existsSync(dir)).toBe(false)
    expect(saved.at(0)).toEqual([dir])
    expect(saved.at(-1)).toEqual([])
    expect(leftovers.cancelled).toBe(true)
    release()
  })

  it('releases what the run removed itself, and stops a child started after the cancel', async () => {
    const saved: string[][] = []
    const leftovers = new RunLeftovers(paths => void saved.push(paths))
    leftovers.path('/tmp/sd-a')()
    expect(saved).toEqual([['/tmp/sd-a'], []])
    await leftovers.cleanUp()
    const late = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' })
    leftovers.processGroup(late.pid!)
    await new Promise(resolve => late.on('exit', resolve))
    expect(alive(late.pid!)).toBe(false)
  })

  it('removes only paths a run of ours makes', () => {
    expect(isOurs('/runner/_temp/sd-AbC123')).toBe(true)
    expect(isOurs('/work/app/.swarm-deploy-0a1b2c3d-docker-compose.yml')).toBe(true)
    expect(isOurs('/home/runner')).toBe(false)
    expect(isOurs('sd-relative')).toBe(false)
    expect(isOurs('/etc/.swarm-deploy-x-y')).toBe(false)
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keep-'))
    expect(removePaths([dir])).toEqual([])
    expect(existsSync(dir)).toBe(true)
  })
})

describe('child environments', () => {
  const runner = {
    PATH: '/usr/bin:/bin',
    HOME: '/home/runner',
    DOCKER_HOST: 'unix:///var/run/docker.sock',
    LC_ALL: 'C.UTF-8',
    AWS_REGION: 'eu-west-1',
    'INPUT_SSH-KEY': 'ssh-private-key',
    'INPUT_REGISTRY-PASSWORD': 'registry-password',
    INPUT_ENV: 'DB_PASSWORD=db-password',
    INPUT_STACK: 'shop',
    SWARM_DEPLOY_ENV: 'DB_PASSWORD=db-password',
    GITHUB_TOKEN: 'ghs_token',
    ACTIONS_RUNTIME_TOKEN: 'runtime-token',
    DB_PASSWORD: 'db-password'
  }

  it("keeps what docker needs and nothing of the runner's inputs or tokens", () => {
    expect(childEnvironment(runner)).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/runner',
      DOCKER_HOST: 'unix:///var/run/docker.sock',
      LC_ALL: 'C.UTF-8'
    })
  })

  it('starts every docker command from it, with the throwaway DOCKER_CONFIG and only the values it is given', async () => {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'sd-bin-'))
    const out = path.join(bin, 'environ')
    writeFileSync(path.join(bin, 'docker'), `#!/bin/sh\ncat /proc/$$/environ > ${out}\n`, { mode: 0o755 })
    const config = path.join(bin, 'config')
    mkdirSync(config)
    const groups: number[] = []
    const cli = new ExecDockerCli(
      config,
      {
        env: { ...runner, PATH: `${bin}:/usr/bin:/bin` },
        leftovers: { path: () => () => undefined, processGroup: pid => (groups.push(pid), () => undefined) }
      },
      { command: () => undefined, stream: () => undefined }
    )
    const result = await cli.run(['build', '.'], { env: { VERSION: '2' } })
    expect(result.code).toBe(0)
    const environ = Object.fromEntries(
      readFileSync(out, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map(entry => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)])
    )
    expect(environ).toMatchObject({ DOCKER_CONFIG: config, VERSION: '2', HOME: '/home/runner' })
    for (const name of [
      'INPUT_SSH-KEY',
      'INPUT_REGISTRY-PASSWORD',
      'INPUT_ENV',
      'INPUT_STACK',
      'SWARM_DEPLOY_ENV',
      'GITHUB_TOKEN',
      'ACTIONS_RUNTIME_TOKEN',
      'DB_PASSWORD'
    ])
      expect(environ[name]).toBeUndefined()
    // In its own process group, recorded for a cancel.
    expect(groups).toHaveLength(1)
  })
})

describe('RunLeftovers cancel hooks', () => {
  it('runs them newest first on cleanUp, not after their release, and does not wait long for one that hangs', async () => {
    const leftovers = new RunLeftovers()
    const ran: string[] = []
    leftovers.onCancel(async () => void ran.push('lock'))
    const forget = leftovers.onCancel(async () => void ran.push('gone'))
    leftovers.onCancel(async () => void ran.push('release record'))
    leftovers.onCancel(() => new Promise(() => undefined))
    forget()
    const began = Date.now()
    await leftovers.cleanUp()
    expect(Date.now() - began).toBeLessThan(3_000)
    expect(ran).toEqual([])
    const ordered = new RunLeftovers()
    ordered.onCancel(async () => void ran.push('lock'))
    ordered.onCancel(async () => void ran.push('release record'))
    await ordered.cleanUp()
    expect(ran).toEqual(['release record', 'lock'])
  })
})

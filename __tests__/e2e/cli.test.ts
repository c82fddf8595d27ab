// The `swarm-deploy` CLI (dist/cli.js) on the lab swarm, run as an operator
// would from a shell: a clean log with no workflow command and no secret,
// --json, exit codes, and bad plans stopped before anything is built.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Lab } from './harness.js'
import { APP, docker, loadLab, registryTags, removeStack, runCli, stackExists, sshFlags } from './harness.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
const STACK = `e2e-cli-${run}`
const PLAN = `e2e-cli-plan-${run}`
const DB_PASSWORD = `cli-pw-${run}'"$(id)=ü`
const GREETING = `cli-greeting-${run}`

let lab: Lab
let key: string

beforeAll(() => {
  lab = loadLab()
  key = readFileSync(lab.sshKeyFile, 'utf8')
})

afterAll(async () => {
  await removeStack(lab, STACK)
})

const secretEnv = (): Record<string, string> => ({
  SWARM_DEPLOY_REGISTRY_PASSWORD: lab.registryPassword,
  SWARM_DEPLOY_ENV: `DB_PASSWORD=${DB_PASSWORD}\nGREETING=${GREETING}`
})

function build(repository: string, tag: string): string[] {
  return ['--image', `${lab.registry}/${repository}`, '--tags', tag, '--build-args', 'VERSION=1', '--registry-username', lab.registryUser]
}

/** Every line of the key, which must not appear even in part. */
const keyLines = (): string[] => key.split('\n').filter(line => line.length >= 20)

describe('swarm-deploy CLI on the lab swarm', () => {
  it('deploys examples/hello: exit 0, --json on stdout, a clean log without workflow commands or secrets', async () => {
    const result = await runCli(lab, [...sshFlags(lab), '--stack', STACK, ...build('e2e/cli-hello', `v1-${run}`), '--timeout', '3m', '--json'], {
      env: secretEnv()
    })
    const all = result.stdout + result.stderr
    if (result.code !== 0) throw new Error(`exit ${result.code}:\n${all.split('\n').slice(-40).join('\n')}`)
    const json = JSON.parse(result.stdout) as {
      status: string
      image: string
      digest: string
      services: Array<{ name: string; state: string; running: number }>
      stats: { polls: number; sshConnections: number; bytesRead: number; bytesReadTotal: number; maxChannels: number }
      phases: Array<{ title: string; ms: number }>
      exitCode: number
    }
    expect(json.status).toBe('converged')
    expect(json.exitCode).toBe(0)
    expect(json.image).toMatch(new RegExp(`^${lab.registry}/e2e/cli-hello:v1-${run}@sha256:[0-9a-f]{64}$`))
    expect(json.image.endsWith(json.digest)).toBe(true)
    expect(json.services).toEqual([expect.objectContaining({ name: `${STACK}_web`, state: 'converged', running: 4 })])
    expect(json.stats.polls).toBeGreaterThan(0)
    expect(json.stats.sshConnections).toBe(1)
    // What went through the tunnel, counted there; within OpenSSH's default MaxSessions.
    expect(json.stats.bytesRead).toBeGreaterThan(0)
    expect(json.stats.bytesReadTotal).toBeGreaterThan(json.stats.bytesRead)
    expect(json.stats.maxChannels).toBeGreaterThanOrEqual(1)
    expect(json.stats.maxChannels).toBeLessThanOrEqual(10)
    expect(json.phases.map(p => p.title)).toEqual(expect.arrayContaining(['Connect', `Deploy stack ${STACK}`, 'Wait for the rollout']))
    // The registry query the plan tests rely on sees what a push leaves.
    expect(await registryTags(lab, 'e2e/cli-hello')).toContain(`v1-${run}`)
    // The log is on stderr: a line per phase with its duration, the verdict, the plain summary.
    expect(result.stderr).toMatch(/^✔ Build and push \S+ \(\d+\.\ds\)$/m)
    expect(result.stderr).toMatch(/^✔ Wait for the rollout \(\d+\.\ds\)$/m)
    expect(result.stderr).toMatch(new RegExp(`^Stack ${STACK}: converged$`, 'm'))
    expect(result.stderr).toContain('Tasks by node:')
    expect(all.split('\n').filter(line => line.startsWith('::'))).toEqual([])
    for (const secret of [DB_PASSWORD, GREETING, lab.registryPassword, ...keyLines()]) expect(all).not.toContain(secret)
    // It did deploy: the env values are in the service spec.
    const spec = JSON.parse(docker(lab, ['service', 'inspect', `${STACK}_web`]))[0].Spec.TaskTemplate.ContainerSpec as { Image: string; Env: string[] }
    expect(spec.Image).toBe(json.image)
    expect(spec.Env).toContain(`DB_PASSWORD=${DB_PASSWORD}`)
  })

  it('exits 2 on a bad input and names it; nothing is done', async () => {
    const result = await runCli(lab, [...sshFlags(lab), '--stack', PLAN, '--timeout', '5 parsecs'], { env: secretEnv() })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("timeout: '5 parsecs' is not a duration like 90s, 5m or 1h")
    // Refused before any connection; the bound only rules out a connect timeout, not a speed.
    expect(result.seconds).toBeLessThan(10)
    expect(stackExists(lab, PLAN)).toBe(false)
  })

  it('the stack sub-commands exit 2 on a bad setting of their own and name it', async () => {
    const shortKey = `short-${run}`
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['rebalance', '--timeout', '5 parsecs'], {}, "swarm-deploy rebalance: timeout: '5 parsecs' is not a duration like 90s, 5m or 1h"],
      [['prune-images', '--lock-timeout', '5 parsecs'], {}, "swarm-deploy prune-images: lock-timeout: '5 parsecs' is not a duration like 90s, 5m or 1h"],
      [['releases'], { SWARM_DEPLOY_RELEASE_KEY: shortKey }, 'swarm-deploy releases: release-key: line 1 is shorter than 16 characters']
    ]
    for (const [[command, ...flags], env, message] of cases) {
      const result = await runCli(lab, [command!, '--stack', PLAN, ...sshFlags(lab), ...flags], { env })
      expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 2, stderr: expect.stringContaining(message) })
      expect(result.stdout + result.stderr).not.toContain(shortKey)
    }
  })

  it('refuses --ssh-key as a flag without echoing it', async () => {
    const result = await runCli(lab, ['--stack', PLAN, '--host', lab.sshHost, '--user', lab.sshUser, '--ssh-key', key])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/ssh-key: is refused as a command-line flag: .*SWARM_DEPLOY_SSH_KEY or with --ssh-key-file FILE/)
    for (const line of keyLines()) expect(result.stdout + result.stderr).not.toContain(line)
  })

  it('stops a known-hosts with no line for the host before anything is built or pushed', async () => {
    const repository = `e2e/cli-plan-hosts-${run}`
    const elsewhere = lab.knownHosts.replaceAll(`${lab.sshHost} `, '10.77.0.99 ')
    const result = await runCli(lab, [...sshFlags(lab, elsewhere), '--stack', PLAN, ...build(repository, `v1-${run}`)], { env: secretEnv() })
    expect(result.code).toBe(2)
    expect(result.stdout).toContain(`error: known-hosts: has no key for ${lab.sshHost}`)
    expect(result.stdout).not.toContain('Build and push')
    expect(await registryTags(lab, repository)).toEqual([])
    expect(stackExists(lab, PLAN)).toBe(false)
  })

  it('stops a compose secret from an unset variable before anything is built or pushed', async () => {
    const repository = `e2e/cli-plan-secret-${run}`
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-cli-compose-'))
    const compose = path.join(dir, 'secret.yml')
    writeFileSync(compose, 'services:\n  web:\n    image: ${IMAGE}\n    secrets: [api]\nsecrets:\n  api:\n    environment: API_KEY_NOBODY_SET\n')
    const result = await runCli(lab, [...sshFlags(lab), '--stack', PLAN, '--compose-file', compose, ...build(repository, `v1-${run}`)], {
      env: secretEnv(),
      cwd: APP
    })
    expect(result.code).toBe(2)
    expect(result.stdout).toContain('secret api takes its value from API_KEY_NOBODY_SET, which is not set')
    expect(result.stdout).not.toContain('Build and push')
    expect(await registryTags(lab, repository)).toEqual([])
    expect(stackExists(lab, PLAN)).toBe(false)
  })
})

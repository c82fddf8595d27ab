// The orchestration in-process: the engine with fake adapters and a
// recording reporter. Each test pins down an order or an absence that a
// broken pipeline would get wrong.
import { describe, expect, it } from '@jest/globals'
import * as path from 'node:path'
import { runDeploy } from '../../src/engine.js'
import { exitCode } from '../../src/cli/main.js'
import { COMPOSE, DB_PASSWORD, DIGEST, fakeWorld, inputsFor, PINNED, recordingReporter, STACK } from '../support/fake-world.js'
import type { WorldOptions } from '../support/fake-world.js'
import type { Inputs } from '../../src/inputs/inputs.js'
import { deployOutputs } from '../../src/report/outputs.js'

async function deploy(world: WorldOptions = {}, overrides: Partial<Inputs> = {}, compose = COMPOSE) {
  const fake = fakeWorld(world)
  fake.files.set('docker-compose.yml', compose)
  const reporter = recordingReporter()
  const outcome = await runDeploy(inputsFor(overrides), fake.host, fake.adapters, reporter)
  return { ...fake, reporter, outcome }
}

describe('runDeploy', () => {
  it('runs the phases in pipeline order and returns the outcome as data', async () => {
    const { outcome, reporter, effects } = await deploy()
    expect(outcome.stopped).toBeUndefined()
    expect(outcome.status).toBe('converged')
    expect(reporter.phases()).toEqual([
      'Log in to registry.example.com:5000',
      'Build and push registry.example.com:5000/acme/shop',
      'Connect',
      'Check the target engine',
      'Take the deploy lock',
      `Deploy stack ${STACK}`,
      'Wait for the rollout',
      'Remove unused secret and config versions'
    ])
    // The SSH connection is made while the login and the build run.
    expect(effects.slice(0, 6)).toEqual([
      'connect',
      'login',
      'build',
      'push registry.example.com:5000/acme/shop:v1',
      'push registry.example.com:5000/acme/shop:latest',
      'info'
    ])
    expect(outcome.image).toEqual({ digest: DIGEST, pinned: PINNED, healthcheck: undefined })
    expect(outcome.stats).toMatchObject({ sshConnections: 1, maxRssBytes: 42 })
    expect(outcome.stats!.polls).toBeGreaterThan(1)
    expect(outcome.stats!.apiCalls).toBeGreaterThanOrEqual(outcome.stats!.polls)
    expect(outcome.stats!.apiCallsTotal).toBeGreaterThan(outcome.stats!.apiCalls)
    // Bytes read while waiting, and in the whole run (the baseline and the first snapshot after the deploy too).
    expect(outcome.stats!.bytesRead).toBeGreaterThan(0)
    expect(outcome.stats!.bytesReadTotal).toBeGreaterThan(outcome.stats!.bytesRead)
    // The first poll's own cost, so that per-poll figures can leave it out.
    expect(outcome.stats!.firstPollApiCalls).toBe(1)
    expect(outcome.stats!.firstPollBytesRead).toBeGreaterThan(0)
    expect(outcome.stats!.firstPollBytesRead).toBeLessThan(outcome.stats!.bytesRead)
    expect(outcome.stats!.maxChannels).toBe(1)
    expect(outcome.report).toMatchObject({ stack: STACK, target: 'fake@manager:22', image: PINNED })
  })

  it('reads the whole stack once after the deploy: for the release record, the specs it is judged by and the first poll', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    const reporter = recordingReporter()
    // Each read, by the phase it was made in.
    let phase = ''
    const tracking = { ...reporter, phase: <T>(title: string, fn: () => Promise<T>) => ((phase = title), reporter.phase(title, fn)) }
    const reads: string[] = []
    const adapters = {
      ...fake.adapters,
      swarmApi: (socketPath: string) => {
        const api = fake.adapters.swarmApi(socketPath)
        return { ...api, snapshot: (stack: string, ids?: string[]) => (reads.push(`${phase}: ${ids ? 'some' : 'all'}`), api.snapshot(stack, ids)) }
      }
    }
    const outcome = await runDeploy(inputsFor(), fake.host, adapters, tracking)
    expect(outcome.status).toBe('converged')
    // Before: the baseline. After: one read, then nothing of the whole stack until the versions in use are pruned.
    expect(reads.filter(r => r.endsWith('all'))).toEqual([
      'Take the deploy lock: all',
      `Deploy stack ${STACK}: all`,
      'Remove unused secret and config versions: all'
    ])
    expect(fake.effects).toContain(`create release ${STACK}_release_1`)
    expect(outcome.stats!.firstPollApiCalls).toBe(1)
  })

  it('keeps where the time went, phase by phase, in the outcome', async () => {
    const { outcome, reporter } = await deploy()
    expect(outcome.phases.map(p => p.title)).toEqual(reporter.phases())
    for (const [i, phase] of outcome.phases.entries()) {
      expect(phase.ms).toBeGreaterThanOrEqual(0)
      if (i > 0) expect(phase.startMs).toBeGreaterThanOrEqual(outcome.phases[i - 1]!.startMs + outcome.phases[i - 1]!.ms)
    }
    expect(outcome.phases.find(p => p.title === 'Wait for the rollout')!.ms).toBeGreaterThan(0)
  })

  it('sets every output once it is known', async () => {
    const { outcome } = await deploy()
    const outputs = Object.fromEntries(deployOutputs(outcome))
    expect(outputs).toMatchObject({ status: 'converged', image: PINNED, digest: DIGEST })
    const services = JSON.parse(outputs.services!) as Array<{ name: string; state: string; change: string }>
    expect(services).toEqual([expect.objectContaining({ name: `${STACK}_web`, state: 'converged', change: 'created' })])
  })

  it('gives the pushed image as an output even when the run stops after the push', async () => {
    const { outcome } = await deploy({ unreachable: true })
    expect(outcome.stopped?.kind).toBe('unreachable')
    expect(deployOutputs(outcome)).toEqual([
      ['image', PINNED],
      ['digest', DIGEST]
    ])
  })

  it('registers every secret before anything is printed, the registry password included', async () => {
    const { reporter } = await deploy()
    const firstOther = reporter.events.findIndex(e => e.kind !== 'secret')
    const secrets = reporter.events.slice(0, firstOther).map(e => e.text)
    expect(secrets).toEqual(expect.arrayContaining(['registry-pw', DB_PASSWORD]))
    expect(reporter.events.slice(firstOther).some(e => e.kind === 'secret')).toBe(false)
  })

  it('gets an ECR token, masks it, and logs in with it on stdin', async () => {
    const registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
    const { reporter, outcome, loginStdin, ecrRegions } = await deploy(
      {},
      { registry: { registry }, image: { ...inputsFor().image!, repository: `${registry}/shop` } }
    )
    expect(outcome.stopped).toBeUndefined()
    expect(ecrRegions).toEqual(['eu-west-1'])
    expect(loginStdin).toEqual(['ecr-token-password'])
    const masked = reporter.events.findIndex(e => e.kind === 'secret' && e.text === 'ecr-token-password')
    const login = reporter.events.findIndex(e => e.kind === 'phase' && e.text.startsWith('Log in'))
    expect(masked).toBeGreaterThanOrEqual(0)
    expect(masked).toBeLessThan(login)
  })

  it('times out when the rollout does not finish by the deadline, and removes nothing', async () => {
    const { outcome, reporter, effects } = await deploy(
      { scenario: 'stuck', objects: [{ kind: 'secret', id: 'x1', name: `${STACK}_db_0123456789` }] },
      { timeoutMs: 30_000 }
    )
    expect(outcome.status).toBe('timed-out')
    expect(outcome.verdict!.summary).toMatch(/timed out/)
    expect(exitCode(outcome)).toBe(1)
    expect(reporter.phases()).toContain('Diagnostics')
    expect(reporter.phases()).not.toContain('Remove unused secret and config versions')
    expect(effects.filter(e => e.startsWith('remove') || e === 'list objects')).toEqual([])
  })

  it('stops docker stack deploy at the deadline and reports timed-out without waiting', async () => {
    const { outcome, reporter } = await deploy({ scenario: 'deploy-hangs' }, { timeoutMs: 10_000 })
    expect(outcome.status).toBe('timed-out')
    expect(outcome.verdict!.summary).toMatch(/docker stack deploy did not finish within 10 s and was stopped\. Some services may have been updated/)
    expect(reporter.phases()).not.toContain('Wait for the rollout')
  })

  it('prunes old versions only after converged', async () => {
    const old = { kind: 'secret' as const, id: 'x1', name: `${STACK}_db_0123456789` }
    const good = await deploy({ objects: [old] })
    expect(good.effects).toContain('remove secret x1')
    // After the verdict, never before the deploy or the wait.
    expect(good.effects.indexOf('remove secret x1')).toBeGreaterThan(good.effects.indexOf('stack deploy'))
    // A secret version is named by its key alone: its versioned name is never logged.
    expect(good.reporter.lines()).toContain('Removed an unused version of secret db')
    expect(good.reporter.lines()).not.toContain(old.name)

    const bad = await deploy({ scenario: 'crash', objects: [old] })
    expect(bad.outcome.status).toBe('failed')
    expect(bad.effects.filter(e => e.startsWith('remove') || e === 'list objects')).toEqual([])
  })

  it('shows diagnostics for failed tasks, redacted, before the verdict is returned', async () => {
    const { outcome, reporter, effects } = await deploy({ scenario: 'crash', logText: `connecting with ${DB_PASSWORD}\nexit 3\n` })
    expect(outcome.status).toBe('failed')
    expect(outcome.verdict!.summary).toMatch(/fails to start and has no previous version to roll back to: task: non-zero exit \(3\)/)
    expect(effects.filter(e => e.startsWith('logs'))).toEqual(['logs t2', 'logs t1'])
    expect(outcome.diagnoses).toHaveLength(2)
    expect(outcome.diagnoses[0]!.logTail).toBe('connecting with ***\nexit 3')
    expect(reporter.phases().at(-1)).toBe('Diagnostics')
    expect(reporter.lines()).toMatch(/shop_web\.1 task t2 on mgr: failed: task: non-zero exit \(3\) \(exit code 3\)/)
    expect(reporter.lines()).not.toContain(DB_PASSWORD)
    expect(exitCode(outcome)).toBe(1)
  })

  it('closes the connection made during a build that fails, and deploys nothing', async () => {
    const { outcome, effects } = await deploy({ buildFails: true })
    expect(outcome.stopped).toMatchObject({ kind: 'error' })
    expect(effects).toEqual(['connect', 'login', 'build', 'tunnel closed'])
  })

  it('reports an unreachable swarm as such, after the push, without deploying', async () => {
    const { outcome, effects } = await deploy({ unreachable: true })
    expect(outcome.stopped).toEqual({ kind: 'unreachable', message: expect.stringMatching(/^ssh: cannot connect/) })
    expect(exitCode(outcome)).toBe(3)
    expect(effects).not.toContain('stack deploy')
    expect(outcome.status).toBeUndefined()
  })
})

describe('the plan stops bad input before any side effect', () => {
  const ssh = (knownHosts: string): Partial<Inputs> => ({
    target: { kind: 'ssh', host: 'manager.example.com', port: 22, user: 'deploy', privateKey: 'KEY', knownHosts, insecureIgnoreHostKey: false }
  })
  it.each([
    [
      'a known-hosts with no line for the host',
      ssh('other.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA=='),
      COMPOSE,
      /^known-hosts: has no key for manager\.example\.com/
    ],
    [
      'a known-hosts with a line for another port',
      ssh('[manager.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA=='),
      COMPOSE,
      /^known-hosts: has no key for manager\.example\.com/
    ],
    ['a malformed known-hosts', ssh('manager.example.com'), COMPOSE, /^known-hosts: each line must be/],
    [
      'a known-hosts with no line for the second manager',
      {
        target: {
          kind: 'ssh' as const,
          host: 'manager.example.com',
          port: 22,
          user: 'deploy',
          privateKey: 'KEY',
          knownHosts: 'manager.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==',
          insecureIgnoreHostKey: false,
          managers: [
            { host: 'manager.example.com', port: 22 },
            { host: 'm2.example.com', port: 2222 }
          ]
        }
      },
      COMPOSE,
      /^known-hosts: has no key for \[m2\.example\.com\]:2222: add the line\(s\) ssh-keyscan -p 2222 m2\.example\.com prints/
    ],
    ['an unset compose variable', {}, `${COMPOSE}      TOKEN: \${TOKEN}\n`, /^compose-file: docker-compose\.yml line 6 uses \$\{TOKEN\}, which is not set/],
    [
      'a secret from an unset variable',
      {},
      `${COMPOSE}secrets:\n  api:\n    environment: API_KEY\n`,
      /^compose-file: docker-compose\.yml: secret api takes its value from API_KEY, which is not set/
    ],
    [
      'a config from a missing file',
      {},
      `${COMPOSE}configs:\n  site:\n    file: ./site.conf\n`,
      /^compose-file: docker-compose\.yml: config site reads \.\/site\.conf, which does not exist/
    ],
    [
      "a service name over Swarm's 63 characters",
      {},
      `${COMPOSE}  ${'w'.repeat(60)}:\n    image: x\n`,
      /^compose-file: docker-compose\.yml: service w+ would be named shop_w+, 65 characters: Swarm allows 63/
    ],
    [
      'a versioned name over 64 characters',
      {},
      `${COMPOSE}secrets:\n  ${'k'.repeat(50)}:\n    environment: DB_PASSWORD\n`,
      /secret name shop_k+_[0-9a-f]{10} is longer than Swarm's 64 characters/
    ]
  ])('%s', async (_name, overrides, compose, message) => {
    const { outcome, effects, reporter } = await deploy({}, overrides, compose)
    expect(outcome.stopped).toEqual({ kind: 'input', message: expect.stringMatching(message) })
    expect(outcome.stopped!.message).toMatch(/Nothing was deployed\.$/)
    expect(exitCode(outcome)).toBe(2)
    expect(effects).toEqual([])
    expect(reporter.phases()).toEqual([])
  })

  it('lets a complete plan through to the side effects', async () => {
    const { outcome, effects } = await deploy(
      {},
      ssh('manager.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA=='),
      `${COMPOSE}secrets:\n  api:\n    environment: DB_PASSWORD\n`
    )
    expect(outcome.status).toBe('converged')
    expect(effects.find(e => e.startsWith('create secret'))).toMatch(/^create secret shop_api_[0-9a-f]{10}$/)
  })
})

describe('secrets in the engine', () => {
  it("warns once about a value too short to hide, naming it, and leaves Swarm's words whole", async () => {
    const { outcome, reporter } = await deploy(
      { scenario: 'crash', taskError: 'task: non-zero exit (137): dockerexec: unhealthy container' },
      {
        env: new Map([
          ['DB_PASSWORD', 'a'],
          ['REPLICAS', '3']
        ])
      }
    )
    expect(outcome.status).toBe('failed')
    const warnings = reporter.events.filter(e => e.kind === 'warn').map(e => e.text)
    expect(warnings.filter(w => w.startsWith('env DB_PASSWORD: the value is shorter than 4 characters'))).toHaveLength(1)
    expect(warnings.filter(w => w.startsWith('env REPLICAS: the value is shorter than 4 characters'))).toHaveLength(1)
    expect(reporter.events.filter(e => e.kind === 'secret').map(e => e.text)).not.toEqual(expect.arrayContaining(['a']))
    expect(outcome.verdict!.summary).toContain('unhealthy container')
    expect(reporter.lines()).toContain('dockerexec: unhealthy container')
  })

  it('redacts every string of the services output and the summary, the image too', async () => {
    const image = 'registry.example.com:5000/private-repo-name:v1'
    const compose = `services:\n  web:\n    image: ${image}\n`
    const { outcome } = await deploy(
      { image },
      {
        image: undefined,
        env: new Map([
          ['DB_PASSWORD', DB_PASSWORD],
          ['PRIVATE', 'private-repo-name']
        ])
      },
      compose
    )
    const [service] = JSON.parse(Object.fromEntries(deployOutputs(outcome)).services!) as Array<{ image: string }>
    expect(service!.image).toBe('registry.example.com:5000/***:v1')
    expect(JSON.stringify(outcome.report)).not.toContain('private-repo-name')
  })

  it('treats env-passthrough values that compose reads as secrets', async () => {
    const compose = `${COMPOSE}      TOKEN: \${RUNNER_TOKEN}\n`
    const fake = fakeWorld({
      scenario: 'crash',
      env: { RUNNER_TOKEN: 'passed-through-token', UNUSED: 'not-read-by-compose' },
      taskError: 'auth failed with passed-through-token'
    })
    fake.files.set('docker-compose.yml', compose)
    const reporter = recordingReporter()
    const outcome = await runDeploy(inputsFor({ passthrough: 'all' }), fake.host, fake.adapters, reporter)
    expect(outcome.status).toBe('failed')
    const masked = reporter.events.filter(e => e.kind === 'secret').map(e => e.text)
    expect(masked).toContain('passed-through-token')
    expect(masked).not.toContain('not-read-by-compose')
    expect(outcome.verdict!.summary).toContain('auth failed with ***')
  })

  it("keys secret version names with the swarm's cluster ID, and never logs them", async () => {
    const compose = `${COMPOSE}secrets:\n  api:\n    environment: DB_PASSWORD\n`
    const created = async (clusterId: string): Promise<{ name: string; lines: string }> => {
      const { effects, reporter } = await deploy({ clusterId }, {}, compose)
      const name = effects.find(e => e.startsWith('create secret'))!.slice('create secret '.length)
      return { name, lines: reporter.lines() }
    }
    const one = await created('cluster-one')
    const again = await created('cluster-one')
    const other = await created('cluster-two')
    expect(one.name).toMatch(/^shop_api_[0-9a-f]{10}$/)
    // Stable for one swarm, and not computable from the stack and the value alone.
    expect(again.name).toBe(one.name)
    expect(other.name).not.toBe(one.name)
    expect(one.lines).toContain('secret api (created)')
    expect(one.lines).not.toContain(one.name)
  })

  it('hides the versioned names of file-sourced secrets, which docker stack deploy prints as it creates them', async () => {
    const compose = `${COMPOSE}secrets:\n  cert:\n    file: ./cert.pem\n`
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', compose)
    fake.files.set(path.resolve('cert.pem'), 'certificate')
    const reporter = recordingReporter()
    const outcome = await runDeploy(inputsFor(), fake.host, fake.adapters, reporter)
    expect(outcome.status).toBe('converged')
    expect(reporter.events.filter(e => e.kind === 'secret').map(e => e.text)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^shop_cert_[0-9a-f]{10}$/)])
    )
    expect(reporter.lines()).not.toMatch(/shop_cert_[0-9a-f]{10}/)
  })

  it('warns once when a credential-like env value goes into environment:', async () => {
    const compose = `${COMPOSE}      API_TOKEN: \${API_TOKEN}\n      REGION: \${REGION}\n  worker:\n    image: x\n    environment:\n      - DB_PASSWORD\n`
    const { reporter, effects } = await deploy(
      {},
      {
        env: new Map([
          ['DB_PASSWORD', DB_PASSWORD],
          ['API_TOKEN', 'token-value-1'],
          ['REGION', 'eu-west-1']
        ])
      },
      compose
    )
    const warnings = reporter.events.filter(e => (e.kind === 'warn' && e.text.includes('goes into environment:')) || e.text.includes('go into environment:'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.text).toMatch(
      /^env: DB_PASSWORD \(service web, docker-compose\.yml line 5\), API_TOKEN \(service web, docker-compose\.yml line 6\) go into environment:/
    )
    expect(warnings[0]!.text).not.toContain('REGION')
    expect(warnings[0]!.text).toContain('use secrets: with an environment: source')
    // Said in the plan, before anything is done.
    expect(reporter.events.findIndex(e => e === warnings[0])).toBeLessThan(reporter.events.findIndex(e => e.kind === 'phase'))
    expect(effects).toContain('stack deploy')
  })

  it('records its work dir and compose copies as leftovers until it removes them', async () => {
    const compose = `${COMPOSE}configs:\n  site:\n    file: ./site.conf\n`
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', compose)
    fake.files.set(path.resolve('site.conf'), 'x')
    const outcome = await runDeploy(inputsFor(), fake.host, fake.adapters, recordingReporter())
    expect(outcome.status).toBe('converged')
    expect(fake.recorded).toEqual([expect.stringMatching(/\/sd-[^/]+$/), expect.stringMatching(/\/\.swarm-deploy-[0-9a-f]{8}-docker-compose\.yml$/)])
    expect(fake.recorded.every(file => file.startsWith('/'))).toBe(true)
    expect([...fake.leftovers]).toEqual([])
  })
})

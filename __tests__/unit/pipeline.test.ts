// The orchestration in-process: the engine with fake adapters and a
// recording reporter. Each test pins down an order or an absence that a
// broken pipeline would get wrong.
import { describe, expect, it } from '@jest/globals'
import { runDeploy } from '../../src/engine.js'
import { exitCode } from '../../src/cli/main.js'
import { COMPOSE, DB_PASSWORD, DIGEST, fakeWorld, inputsFor, PINNED, recordingReporter, STACK } from '../support/fake-world.js'
import type { WorldOptions } from '../support/fake-world.js'
import type { Inputs } from '../../src/inputs/inputs.js'

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
      `Deploy stack ${STACK}`,
      'Wait for the rollout',
      'Remove unused secret and config versions'
    ])
    expect(effects.slice(0, 6)).toEqual(['login', 'build', 'push registry.example.com:5000/acme/shop:v1', 'push registry.example.com:5000/acme/shop:latest', 'connect', 'info'])
    expect(outcome.image).toEqual({ digest: DIGEST, pinned: PINNED, healthcheck: undefined })
    expect(outcome.stats).toMatchObject({ sshConnections: 1, maxRssBytes: 42 })
    expect(outcome.stats!.polls).toBeGreaterThan(1)
    expect(outcome.stats!.apiCalls).toBeGreaterThanOrEqual(outcome.stats!.polls)
    expect(outcome.stats!.apiCallsTotal).toBeGreaterThan(outcome.stats!.apiCalls)
    expect(outcome.report).toMatchObject({ stack: STACK, target: 'fake@manager:22', image: PINNED })
  })

  it('sets every output once it is known', async () => {
    const { reporter } = await deploy()
    const outputs = reporter.outputs()
    expect(outputs).toMatchObject({ status: 'converged', image: PINNED, digest: DIGEST })
    const services = JSON.parse(outputs.services!) as Array<{ name: string; state: string; change: string }>
    expect(services).toEqual([expect.objectContaining({ name: `${STACK}_web`, state: 'converged', change: 'created' })])
    // The image is an output as soon as it is pushed, before anything connects.
    const events = reporter.events.map(e => (e.kind === 'output' ? `output ${e.text.split('\0')[0]}` : `${e.kind} ${e.text}`))
    expect(events.indexOf('output image')).toBeLessThan(events.indexOf('phase Connect'))
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
    const { reporter, outcome, loginStdin, ecrRegions } = await deploy({}, { registry: { registry }, image: { ...inputsFor().image!, repository: `${registry}/shop` } })
    expect(outcome.stopped).toBeUndefined()
    expect(ecrRegions).toEqual(['eu-west-1'])
    expect(loginStdin).toEqual(['ecr-token-password'])
    const masked = reporter.events.findIndex(e => e.kind === 'secret' && e.text === 'ecr-token-password')
    const login = reporter.events.findIndex(e => e.kind === 'phase' && e.text.startsWith('Log in'))
    expect(masked).toBeGreaterThanOrEqual(0)
    expect(masked).toBeLessThan(login)
  })

  it('times out when the rollout does not finish by the deadline, and removes nothing', async () => {
    const { outcome, reporter, effects } = await deploy({ scenario: 'stuck', objects: [{ kind: 'secret', id: 'x1', name: `${STACK}_db_0123456789` }] }, { timeoutMs: 30_000 })
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
    expect(good.reporter.lines()).toContain(`Removed secret ${old.name}`)

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
    ['a known-hosts with no line for the host', ssh('other.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA=='), COMPOSE, /^known-hosts: has no key for manager\.example\.com/],
    ['a known-hosts with a line for another port', ssh('[manager.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA=='), COMPOSE, /^known-hosts: has no key for manager\.example\.com/],
    ['a malformed known-hosts', ssh('manager.example.com'), COMPOSE, /^known-hosts: each line must be/],
    [
      'a known-hosts with no line for the second manager',
      { target: { kind: 'ssh' as const, host: 'manager.example.com', port: 22, user: 'deploy', privateKey: 'KEY', knownHosts: 'manager.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==', insecureIgnoreHostKey: false, managers: [{ host: 'manager.example.com', port: 22 }, { host: 'm2.example.com', port: 2222 }] } },
      COMPOSE,
      /^known-hosts: has no key for \[m2\.example\.com\]:2222: add the line\(s\) ssh-keyscan -p 2222 m2\.example\.com prints/
    ],
    ['an unset compose variable', {}, `${COMPOSE}      TOKEN: \${TOKEN}\n`, /^compose-file: docker-compose\.yml line 6 uses \$\{TOKEN\}, which is not set/],
    ['a secret from an unset variable', {}, `${COMPOSE}secrets:\n  api:\n    environment: API_KEY\n`, /^compose-file: docker-compose\.yml: secret api takes its value from API_KEY, which is not set/],
    ['a config from a missing file', {}, `${COMPOSE}configs:\n  site:\n    file: ./site.conf\n`, /^compose-file: docker-compose\.yml: config site reads \.\/site\.conf, which does not exist/],
    ['a service name over Swarm\'s 63 characters', {}, `${COMPOSE}  ${'w'.repeat(60)}:\n    image: x\n`, /^compose-file: docker-compose\.yml: service w+ would be named shop_w+, 65 characters: Swarm allows 63/],
    ['a versioned name over 64 characters', {}, `${COMPOSE}secrets:\n  ${'k'.repeat(50)}:\n    environment: DB_PASSWORD\n`, /secret name shop_k+_[0-9a-f]{10} is longer than Swarm's 64 characters/]
  ])('%s', async (_name, overrides, compose, message) => {
    const { outcome, effects, reporter } = await deploy({}, overrides, compose)
    expect(outcome.stopped).toEqual({ kind: 'input', message: expect.stringMatching(message) })
    expect(outcome.stopped!.message).toMatch(/Nothing was deployed\.$/)
    expect(exitCode(outcome)).toBe(2)
    expect(effects).toEqual([])
    expect(reporter.phases()).toEqual([])
  })

  it('lets a complete plan through to the side effects', async () => {
    const { outcome, effects } = await deploy({}, ssh('manager.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA=='), `${COMPOSE}secrets:\n  api:\n    environment: DB_PASSWORD\n`)
    expect(outcome.status).toBe('converged')
    expect(effects.find(e => e.startsWith('create secret'))).toMatch(/^create secret shop_api_[0-9a-f]{10}$/)
  })
})

// The refresh of the stored registry credential: the header's form, which
// services it touches, its inputs, the ECR token's expiry, and the engine's
// refresh in-process (order, the spec sent back as read, the bounded retry).
import { afterEach, describe, expect, it } from '@jest/globals'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cliMain } from '../../src/cli/main.js'
import { encodeRegistryAuth, isOutOfSequence, refreshDecision } from '../../src/deploy/registry-auth.js'
import { runDeploy } from '../../src/engine.js'
import { getRefreshInputs, wantsRefresh } from '../../src/inputs/refresh-inputs.js'
import type { RefreshInputs } from '../../src/inputs/refresh-inputs.js'
import { runRefreshAuth } from '../../src/refresh-auth.js'
import { ecrToken } from '../../src/registry/credentials/ecr.js'
import { renderRefreshSummary, renderRefreshText } from '../../src/report/refresh.js'
import { renderSummary } from '../../src/report/summary.js'
import { renderText } from '../../src/report/text.js'
import type { StoredConfig, SwarmApi } from '../../src/ports.js'
import { takeLock } from '../../src/lock/store.js'
import type { Service, UpdateState } from '../../src/swarm/model.js'
import { COMPOSE, fakeWorld, inputsFor, recordingReporter } from '../support/fake-world.js'
import { deployOutputs, refreshOutputs } from '../../src/report/outputs.js'

const REGISTRY = 'registry.example.com:5000'
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'

/** Go's base64.URLEncoding, padding required: what the daemon decodes X-Registry-Auth with. */
function decodeAsDaemon(header: string): unknown {
  expect(header).toMatch(/^[A-Za-z0-9_-]*={0,2}$/)
  expect(header.length % 4).toBe(0)
  return JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'))
}

function service(name: string, image: string, state?: UpdateState): Service {
  return {
    ID: `id-${name}`,
    Version: { Index: 40 },
    Spec: {
      Name: name,
      Labels: { 'com.docker.stack.namespace': 'shop' },
      TaskTemplate: { ContainerSpec: { Image: image }, ForceUpdate: 2 },
      Mode: { Replicated: { Replicas: 2 } },
      // A field the model does not name: it must go back as it came.
      ...({ EndpointSpec: { Mode: 'dnsrr' } } as object)
    },
    ...(state ? { UpdateStatus: { State: state } } : {})
  }
}

describe('encodeRegistryAuth', () => {
  it('is the credential as JSON in base64url with padding, as the daemon decodes it', () => {
    // Lengths that need one and two padding characters, and bytes that base64 writes as + and /.
    for (const password of ['p>?>?>', 'p>?>?>x', 'p>?>?>xy', 'ÿÿ~~ÿÿ']) {
      const header = encodeRegistryAuth({ registry: REGISTRY, username: 'ci', password })
      expect(decodeAsDaemon(header)).toEqual({ username: 'ci', password, serveraddress: REGISTRY })
    }
  })
  it("names Docker Hub's server as the docker CLI does", () => {
    expect(decodeAsDaemon(encodeRegistryAuth({ registry: 'docker.io', username: 'u', password: 'p' }))).toMatchObject({
      serveraddress: 'https://index.docker.io/v1/'
    })
  })
})

describe('refreshDecision', () => {
  it('updates a service whose image is on the registry, settled or rolled back', () => {
    for (const state of [undefined, 'completed', 'rollback_completed'] as const) {
      expect(refreshDecision(service('shop_web', `${REGISTRY}/acme/web:v1@sha256:${'a'.repeat(64)}`, state), REGISTRY)).toEqual({ kind: 'update' })
    }
    expect(refreshDecision(service('shop_web', `nginx:1.27@sha256:${'a'.repeat(64)}`), 'docker.io')).toEqual({ kind: 'update' })
  })
  it('leaves a service of another registry as it is', () => {
    expect(refreshDecision(service('shop_db', 'postgres:16'), REGISTRY)).toEqual({
      kind: 'other-registry',
      reason: `its image postgres:16 is not on ${REGISTRY}`
    })
  })
  it('leaves a service alone while a rollout is under way or paused, which an update would restart or resume', () => {
    for (const state of ['updating', 'paused', 'rollback_started', 'rollback_paused'] as const) {
      expect(refreshDecision(service('shop_web', `${REGISTRY}/acme/web:v1`, state), REGISTRY).kind).toBe('busy')
    }
  })
  it("tells Swarm's out-of-sequence refusal from other errors", () => {
    expect(isOutOfSequence(new Error('(HTTP code 500) server error - rpc error: code = Unknown desc = update out of sequence'))).toBe(true)
    expect(isOutOfSequence(new Error('(HTTP code 404) no such service'))).toBe(false)
  })
})

describe('getRefreshInputs', () => {
  const read =
    (values: Record<string, string>) =>
    (name: string): string =>
      values[name] ?? (name === 'compose-file' ? 'docker-compose.yml' : '')
  it('needs the stack and the registry; reads no compose file and no image', () => {
    const inputs = getRefreshInputs(read({ stack: 'shop', registry: REGISTRY, 'registry-username': 'ci', 'registry-password': 'pw-12345678' }))
    expect(inputs).toMatchObject({ stack: 'shop', registry: { registry: REGISTRY, username: 'ci' }, target: { kind: 'local' }, warnings: [] })
    expect(() => getRefreshInputs(read({ stack: 'shop', image: `${REGISTRY}/acme/web` }))).toThrow(
      "registry: is required with refresh-registry-auth: true: the registry whose credential the stack's services get"
    )
    expect(() => getRefreshInputs(read({ stack: 'shop', registry: REGISTRY }))).toThrow(
      `registry-username: is required with refresh-registry-auth: true for ${REGISTRY}, with registry-password (only ECR gets a token from the job's AWS credentials)`
    )
  })
  it("takes an ECR registry without credentials (the job's AWS ones), refuses rollback, and names inputs it does not use", () => {
    const inputs = getRefreshInputs(read({ stack: 'shop', registry: ECR, image: `${ECR}/shop`, tags: 'v1' }))
    expect(inputs.registry).toEqual({ registry: ECR })
    expect(inputs.warnings).toEqual([
      'image: not used with refresh-registry-auth: true, which deploys nothing and changes only the registry credential',
      'tags: not used with refresh-registry-auth: true, which deploys nothing and changes only the registry credential'
    ])
    expect(() => getRefreshInputs(read({ stack: 'shop', registry: ECR, rollback: 'previous' }))).toThrow('rollback: cannot go with refresh-registry-auth: true')
    // Refused before anything is done: a refresh that took dry-run would update every service all the same.
    expect(() => getRefreshInputs(read({ stack: 'shop', registry: ECR, 'dry-run': 'true' }))).toThrow(
      'dry-run: cannot go with refresh-registry-auth: true, which has no preview'
    )
    expect(getRefreshInputs(read({ stack: 'shop', registry: ECR, 'dry-run': 'false' })).stack).toBe('shop')
    // smoke-timeout and smoke-expect at their defaults (as the runner passes them) say nothing; another value is named.
    expect(getRefreshInputs(read({ stack: 'shop', registry: ECR, 'smoke-timeout': '60s', 'smoke-expect': '200-399' })).warnings).toEqual([])
    expect(getRefreshInputs(read({ stack: 'shop', registry: ECR, 'smoke-timeout': '2m', 'smoke-expect': '200-399' })).warnings).toEqual([
      'smoke-timeout: not used with refresh-registry-auth: true, which deploys nothing and changes only the registry credential'
    ])
    expect(() => getRefreshInputs(read({ stack: 'shop', registry: ECR, 'smoke-url': 'https://shop.example.test/health' }))).toThrow(
      'smoke-url: cannot go with refresh-registry-auth: true, which starts no task'
    )
    expect(wantsRefresh(read({ 'refresh-registry-auth': 'true' }))).toBe(true)
    expect(wantsRefresh(read({}))).toBe(false)
    expect(() => wantsRefresh(read({ 'refresh-registry-auth': 'sometimes' }))).toThrow("refresh-registry-auth: 'sometimes' is not a boolean")
  })
})

/** An Engine API with these services, recording what it is asked; `refuse` update attempts answer out of sequence. */
function swarm(services: Service[], options: { refuse?: number } = {}) {
  const updates: Array<{ id: string; version: number; spec: unknown; header: string }> = []
  const effects: string[] = []
  let refuse = options.refuse ?? 0
  // The deploy lock is a config: enough of the config calls for it.
  const configs = new Map<string, StoredConfig>()
  const api: Partial<SwarmApi> = {
    listConfigs: async labels => [...configs.values()].filter(c => Object.entries(labels).every(([k, v]) => c.labels[k] === v)),
    createConfig: async (name, data, labels) => {
      if ([...configs.values()].some(c => c.name === name)) return 'exists'
      configs.set(`cfg-${name}`, { id: `cfg-${name}`, version: 1, name, labels, data })
      effects.push(`lock ${name}`)
      return 'created'
    },
    removeObject: async (_kind, id) => {
      effects.push(`unlock ${configs.get(id)?.name}`)
      configs.delete(id)
    },
    info: async () => (effects.push('info'), { serverVersion: '20.10.24', isManager: true, swarmState: 'active', clusterId: 'c' }),
    snapshot: async () => ({ services: structuredClone(services), tasks: [], nodes: [] }),
    readService: async id => (effects.push(`read ${id}`), structuredClone(services.find(s => s.ID === id)!)),
    updateRegistryAuth: async (id, version, spec, header) => {
      if (refuse > 0) {
        refuse--
        // Someone else's update came in between.
        services.find(s => s.ID === id)!.Version.Index += 3
        throw new Error('(HTTP code 500) server error - rpc error: code = Unknown desc = update out of sequence')
      }
      updates.push({ id, version, spec, header })
      effects.push(`update ${id}`)
      return []
    },
    close: () => undefined
  }
  return { api: api as SwarmApi, updates, effects }
}

/** A refresh of stack shop on the local engine, with a new password for REGISTRY. */
const refreshInputs = (overrides: Partial<RefreshInputs> = {}): RefreshInputs => ({
  target: { kind: 'local' },
  stack: 'shop',
  registry: { registry: REGISTRY, username: 'ci', password: 'new-registry-password' },
  timeoutMs: 600_000,
  lockTimeoutMs: 300_000,
  warnings: [],
  ...overrides
})

async function refresh(services: Service[], overrides: Partial<RefreshInputs> = {}, options: { refuse?: number; expiresAt?: Date } = {}) {
  const world = fakeWorld()
  const engine = swarm(services, options)
  const reporter = recordingReporter()
  const adapters = {
    ...world.adapters,
    openTunnel: async (...args: Parameters<typeof world.adapters.openTunnel>) => (engine.effects.push('connect'), world.adapters.openTunnel(...args)),
    swarmApi: () => engine.api,
    ecrToken: async () => (
      engine.effects.push('ecr token'),
      { username: 'AWS', password: 'fresh-ecr-token', ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}) }
    )
  }
  const login = world.adapters.dockerCli('', world.host, reporter)
  adapters.dockerCli = () => ({
    run: async (args, opts) => {
      if (args[0] === 'login') engine.effects.push('login')
      return login.run(args, opts)
    }
  })
  const outcome = await runRefreshAuth(refreshInputs(overrides), world.host, adapters, reporter)
  return { outcome, reporter, ...engine, loginStdin: world.loginStdin }
}

describe('runRefreshAuth', () => {
  const web = (): Service => service('shop_web', `${REGISTRY}/acme/web:v1@sha256:${'a'.repeat(64)}`)
  const db = (): Service => service('shop_db', 'postgres:16')

  it('logs in before it touches the swarm, then sends each service its spec as read, at its version, with the new credential', async () => {
    const services = [web(), db()]
    const { outcome, reporter, updates, effects, loginStdin } = await refresh(services)
    expect(outcome.stopped).toBeUndefined()
    expect(outcome.status).toBe('refreshed')
    expect(effects.slice(0, 3)).toEqual(['login', 'connect', 'info'])
    expect(loginStdin).toEqual(['new-registry-password'])
    expect(updates).toHaveLength(1)
    expect(updates[0]!.id).toBe('id-shop_web')
    expect(updates[0]!.version).toBe(40)
    // Nothing else changed: the very spec the API gave, ForceUpdate and the fields the model does not name included.
    expect(updates[0]!.spec).toEqual(services[0]!.Spec)
    expect(decodeAsDaemon(updates[0]!.header)).toEqual({ username: 'ci', password: 'new-registry-password', serveraddress: REGISTRY })
    expect(outcome.services).toEqual([
      { name: 'shop_db', result: 'skipped', detail: `left as it is: its image postgres:16 is not on ${REGISTRY}` },
      { name: 'shop_web', result: 'refreshed', detail: 'new credential stored (spec version 40, nothing else changed)' }
    ])
    expect(Object.fromEntries(refreshOutputs(outcome)).status).toBe('refreshed')
    expect(reporter.phases()).toEqual([
      `Log in to ${REGISTRY}`,
      'Connect',
      'Check the target engine',
      'Take the deploy lock',
      'Refresh the registry credential of stack shop'
    ])
    // Under the stack's deploy lock, as a deploy is: taken before the first update, let go of after the last.
    expect(effects).toEqual(['login', 'connect', 'info', 'lock shop_lock', 'read id-shop_db', 'read id-shop_web', 'update id-shop_web', 'unlock shop_lock'])
    // The password and its header never reach the log, and are masked first.
    expect(reporter.lines()).not.toContain('new-registry-password')
    expect(reporter.lines()).not.toContain(updates[0]!.header)
    expect(reporter.events.filter(e => e.kind === 'secret').map(e => e.text)).toEqual(expect.arrayContaining(['new-registry-password', updates[0]!.header]))
    const summary = renderRefreshSummary(outcome)
    expect(summary).toContain('## swarm-deploy: registry credential of stack `shop` ✅ refreshed')
    expect(summary).toContain('| shop\\_web | refreshed: new credential stored (spec version 40, nothing else changed) |')
  })

  it('waits for a deploy that holds the stack lock, and gives up after lock-timeout having updated nothing', async () => {
    const world = fakeWorld()
    const engine = swarm([web()])
    // A deploy took the lock a moment ago and holds it for ten minutes.
    const deploy = {
      stack: 'shop',
      holder: 'https://github.com/acme/shop/actions/runs/7',
      ttlMs: 600_000,
      waitMs: 0,
      token: 't',
      now: world.now,
      sleep: async () => undefined
    }
    await takeLock(engine.api, { ...deploy, log: { info: () => undefined, warn: () => undefined } })
    const reporter = recordingReporter()
    const adapters = { ...world.adapters, swarmApi: () => engine.api }
    const outcome = await runRefreshAuth(refreshInputs({ lockTimeoutMs: 20_000 }), world.host, adapters, reporter)
    expect(outcome.stopped?.message).toContain('stack shop is locked by another deploy')
    expect(outcome.stopped?.message).toContain('https://github.com/acme/shop/actions/runs/7')
    expect(reporter.lines()).toContain('Waiting for the deploy lock held by https://github.com/acme/shop/actions/runs/7')
    expect(engine.updates).toEqual([])
    expect(engine.effects.filter(e => e.startsWith('unlock'))).toEqual([])
  })

  it("escapes Swarm's and the registry's text in the summary as the deploy's summary does", () => {
    const summary = renderRefreshSummary({
      status: undefined,
      stack: 'shop',
      registry: REGISTRY,
      target: 'ci@manager:22',
      services: [{ name: 'shop_web', result: 'busy', detail: 'not refreshed: <img src=x onerror=alert(1)>' }],
      expiresAt: undefined,
      stopped: { kind: 'error', message: 'login refused: [click here](https://evil.example) | `x`\nnext' },
      startedAt: 0,
      seconds: 3,
      phases: []
    })
    // The word that GFM would autolink is a code span.
    expect(summary).toContain('login refused: \\[click `here](https://evil.example)` \\| \\`x\\` next')
    expect(summary).toContain('| shop\\_web | busy: not refreshed: \\<img src=x onerror=alert(1)\\> |')
    // Nothing unescaped outside code spans: no tag, no link.
    expect(summary.replace(/(`+)[^`]*?\1/g, '')).not.toMatch(/(?<!\\)<img|(?<!\\)\]\(https/)
    expect(summary).toContain('Registry `registry.example.com:5000` · target `ci@manager:22` · took 3s')
  })

  it('reads a service again after update out of sequence, and gives up after three attempts', async () => {
    const twice = await refresh([web()], {}, { refuse: 2 })
    expect(twice.outcome.status).toBe('refreshed')
    expect(twice.effects.filter(e => e.startsWith('read '))).toHaveLength(3)
    // The version sent is the one read last, not the first.
    expect(twice.updates[0]!.version).toBe(46)
    expect(twice.reporter.lines()).toContain('shop_web: changed while it was being refreshed (update out of sequence); reading it again (attempt 2 of 3)')

    const always = await refresh([web()], {}, { refuse: 3 })
    expect(always.outcome.status).toBeUndefined()
    expect(always.outcome.stopped?.message).toBe(
      'shop_web: the update was refused: (HTTP code 500) server error - rpc error: code = Unknown desc = update out of sequence'
    )
    expect(always.updates).toEqual([])
  })

  it('leaves a service with a rollout under way alone, warns, and reports failed', async () => {
    const { outcome, updates, reporter } = await refresh([{ ...web(), UpdateStatus: { State: 'paused' } }])
    expect(updates).toEqual([])
    expect(outcome.status).toBe('failed')
    expect(reporter.events.filter(e => e.kind === 'warn').map(e => e.text)).toEqual([
      'shop_web: not refreshed: its update is paused (an update now would resume it): run the refresh again once it has ended'
    ])
  })

  it('stops when the stack has no service, or none on the registry', async () => {
    expect((await refresh([])).outcome.stopped?.message).toBe('stack shop has no services on this swarm: nothing to refresh')
    const other = await refresh([db()])
    expect(other.outcome.stopped?.message).toBe(`no service of stack shop runs an image from ${REGISTRY}: nothing to refresh`)
    expect(other.updates).toEqual([])
  })

  it('stops on a known-hosts without a key for the manager as bad input, before the login', async () => {
    const target = {
      kind: 'ssh' as const,
      host: 'manager.example.com',
      port: 22,
      user: 'deploy',
      privateKey: 'KEY-0123456789',
      knownHosts: 'other.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==',
      insecureIgnoreHostKey: false
    }
    const { outcome, effects } = await refresh([web()], { target })
    expect(outcome.stopped?.kind).toBe('input')
    expect(outcome.stopped?.message).toMatch(/^known-hosts: has no key for manager\.example\.com/)
    expect(effects).toEqual([])
  })

  it('gets a new ECR token, says when it expires, and gives it as the output', async () => {
    const expiresAt = new Date(1_700_000_000_000 + 12 * 3_600_000)
    const services = [service('shop_web', `${ECR}/shop:v1`)]
    const { outcome, reporter, updates, effects } = await refresh(services, { registry: { registry: ECR } }, { expiresAt })
    expect(effects.slice(0, 2)).toEqual(['ecr token', 'login'])
    expect(outcome.expiresAt).toBe(expiresAt.toISOString())
    expect(Object.fromEntries(refreshOutputs(outcome))['registry-auth-expires']).toBe(expiresAt.toISOString())
    expect(reporter.lines()).toContain(`The new ECR token for ${ECR} expires at ${expiresAt.toISOString()} (in 12.0 h)`)
    expect(decodeAsDaemon(updates[0]!.header)).toEqual({ username: 'AWS', password: 'fresh-ecr-token', serveraddress: ECR })
    expect(reporter.lines()).not.toContain('fresh-ecr-token')
  })
})

describe('a refresh with a GitHub token that dies with the job', () => {
  it('says so in its log, its summary and its text: the credential it stored is short-lived too', async () => {
    const token = 'ghs_' + 'R'.repeat(36)
    const { outcome, reporter } = await refresh([service('shop_web', `ghcr.io/acme/web:v1@sha256:${'a'.repeat(64)}`)], {
      registry: { registry: 'ghcr.io', username: 'acme', password: token }
    })
    expect(outcome.status).toBe('refreshed')
    expect(outcome.shortLived).toMatch(
      /^The credential now stored for ghcr\.io is a GitHub App installation token \(ghs_…\): the job's GITHUB_TOKEN expires when the job ends/
    )
    expect(reporter.events.filter(e => e.kind === 'warn').map(e => e.text)).toEqual([outcome.shortLived])
    expect(renderRefreshSummary(outcome)).toContain('a personal access token (classic) with the read:packages scope')
    expect(renderRefreshText(outcome)).toContain(outcome.shortLived)
    expect(reporter.lines()).not.toContain(token)
  })
})

describe('an ECR deploy', () => {
  it('says in its log, output and summary when the stored token expires, and points to the scheduled refresh', async () => {
    const world = fakeWorld()
    world.files.set('docker-compose.yml', COMPOSE)
    const expiresAt = new Date(1_700_000_000_000 + 12 * 3_600_000)
    const adapters = { ...world.adapters, ecrToken: async () => ({ username: 'AWS', password: 'ecr-token-password', expiresAt }) }
    const reporter = recordingReporter()
    const outcome = await runDeploy(
      inputsFor({ registry: { registry: ECR }, image: { ...inputsFor().image!, repository: `${ECR}/shop` } }),
      world.host,
      adapters,
      reporter
    )
    expect(outcome.stopped).toBeUndefined()
    expect(Object.fromEntries(deployOutputs(outcome))['registry-auth-expires']).toBe(expiresAt.toISOString())
    expect(reporter.lines()).toContain(`The ECR token for ${ECR} stored in the services expires at ${expiresAt.toISOString()} (in 12.0 h)`)
    expect(reporter.lines()).toContain('refresh-registry-auth: true')
    expect(renderSummary(outcome.report!)).toContain(`expires at ${expiresAt.toISOString()}. To keep rescheduled tasks and new nodes able to pull`)
    expect(renderSummary(outcome.report!)).toContain('examples/workflows/refresh-registry-auth.yml')
    expect(renderText(outcome.report!)).toContain(`expires at ${expiresAt.toISOString()}`)
  })
  it('says nothing of an expiry without ECR', async () => {
    const world = fakeWorld()
    world.files.set('docker-compose.yml', COMPOSE)
    const reporter = recordingReporter()
    const outcome = await runDeploy(inputsFor(), world.host, world.adapters, reporter)
    expect(Object.fromEntries(deployOutputs(outcome))['registry-auth-expires']).toBeUndefined()
    expect(renderSummary(outcome.report!)).not.toContain('expires')
  })
})

describe('ecrToken', () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  it("reads the token's expiresAt from GetAuthorizationToken", async () => {
    // A stand-in for ECR's JSON API on loopback.
    const server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(
          JSON.stringify({
            authorizationData: [
              { authorizationToken: Buffer.from('AWS:ecr-secret-token').toString('base64'), expiresAt: 1_700_043_200, proxyEndpoint: `https://${ECR}` }
            ]
          })
        )
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>(resolve => server.close(() => resolve())))
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY }
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE'
    process.env.AWS_SECRET_ACCESS_KEY = 'example-secret'
    cleanups.push(() => {
      for (const [name, value] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.key]
      ] as const) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    })
    const token = await ecrToken('eu-west-1', { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 5_000 })
    expect(token).toEqual({ username: 'AWS', password: 'ecr-secret-token', expiresAt: new Date(1_700_043_200_000) })
  })
})

describe('swarm-deploy refresh-auth', () => {
  const run = async (argv: string[], env: Record<string, string> = {}) => {
    const fake = fakeWorld()
    const host = { ...fake.host, env: { ...fake.host.env, ...env } }
    let stdout = ''
    let stderr = ''
    const code = await cliMain(argv, { stdout: t => void (stdout += t), stderr: t => void (stderr += t) }, host, fake.adapters)
    return { code, stdout, stderr, effects: fake.effects }
  }
  it('has its own --help, and refuses a missing registry with exit 2 before anything is done', async () => {
    const help = await run(['refresh-auth', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: swarm-deploy refresh-auth --stack NAME --registry REGISTRY/)
    const missing = await run(['refresh-auth', '--stack', 'shop', '--json'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('registry: is required with refresh-registry-auth: true')
    expect(JSON.parse(missing.stdout)).toMatchObject({ status: null, error: { kind: 'input' }, exitCode: 2 })
    expect(missing.effects).toEqual([])
  })
  it('refuses --dry-run and a smoke URL with exit 2, before the login or anything else', async () => {
    const args = ['refresh-auth', '--stack', 'shop', '--registry', REGISTRY, '--registry-username', 'ci', '--json']
    const env = { SWARM_DEPLOY_REGISTRY_PASSWORD: 'registry-pw' }
    const dry = await run([...args, '--dry-run'], env)
    expect(dry.code).toBe(2)
    expect(dry.stderr).toContain('dry-run: cannot go with refresh-registry-auth: true')
    expect(dry.effects).toEqual([])
    const smoke = await run(args, { ...env, SWARM_DEPLOY_SMOKE_URL: 'https://shop.example.test/health' })
    expect(smoke.code).toBe(2)
    expect(JSON.parse(smoke.stdout)).toMatchObject({ error: { kind: 'input', message: expect.stringContaining('smoke-url: cannot go with') }, exitCode: 2 })
    expect(smoke.effects).toEqual([])
  })
  it('runs the refresh for --refresh-registry-auth on the main command too, with the password from the environment', async () => {
    const result = await run(['--refresh-registry-auth', '--stack', 'shop', '--registry', REGISTRY, '--registry-username', 'ci', '--json'], {
      SWARM_DEPLOY_REGISTRY_PASSWORD: 'registry-pw'
    })
    // The fake swarm has no stack yet: the refresh logged in, connected, found nothing to refresh and said so.
    expect(result.code).toBe(1)
    // The lock is let go of on the way out, the error's way too.
    expect(result.effects).toEqual(['login', 'connect', 'info', 'lock shop_lock', 'unlock shop_lock', 'tunnel closed'])
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: { kind: 'error', message: 'stack shop has no services on this swarm: nothing to refresh' },
      exitCode: 1
    })
    expect(result.stdout + result.stderr).not.toContain('registry-pw')
  })
})

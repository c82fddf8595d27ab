// Where a registry login comes from when the inputs give none (#18): a
// credential helper of the user's Docker config (its choice, its answer, a
// real helper program run the way docker runs it, the engine using it or
// stopping before anything is built), and the warning for a GitHub token
// that dies with the job.
import { describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runDeploy } from '../../../src/engine.js'
import type { Inputs } from '../../../src/inputs/inputs.js'
import type { HelperRun } from '../../../src/ports.js'
import { helperCredentials, helperFor, helperLogin, HelperMissing, runCredentialHelper } from '../../../src/registry/credentials/credential-helper.js'
import { shortLivedToken, shortLivedWarning } from '../../../src/registry/expiry.js'
import { login } from '../../../src/registry/login.js'
import { createWorkdir } from '../../../src/workdir.js'
import { COMPOSE, fakeWorld, inputsFor, recordingReporter, REPO } from '../../support/fake-world.js'

const REGISTRY = 'registry.example.com:5000'
const noLeftovers = { path: () => () => undefined, processGroup: () => () => undefined }

describe('helperFor', () => {
  it("follows the docker CLI: the registry's credHelpers entry, else credsStore, and an empty entry means the file", () => {
    const stores = { credsStore: 'desktop', credHelpers: { [REGISTRY]: 'pass', 'https://index.docker.io/v1/': 'osxkeychain', 'ghcr.io': '' } }
    expect(helperFor(stores, REGISTRY)).toEqual({ helper: 'pass', setting: 'credHelpers', serverUrl: REGISTRY })
    expect(helperFor(stores, 'docker.io')).toEqual({ helper: 'osxkeychain', setting: 'credHelpers', serverUrl: 'https://index.docker.io/v1/' })
    expect(helperFor(stores, 'quay.io')).toEqual({ helper: 'desktop', setting: 'credsStore', serverUrl: 'quay.io' })
    expect(helperFor(stores, 'ghcr.io')).toBeUndefined()
    expect(helperFor({ credHelpers: {} }, REGISTRY)).toBeUndefined()
  })
})

describe('helperCredentials', () => {
  const choice = { helper: 'pass', setting: 'credHelpers' as const, serverUrl: REGISTRY }
  it("reads the helper's JSON, and its not-found answer as no login", () => {
    const answer = { code: 0, stdout: JSON.stringify({ ServerURL: REGISTRY, Username: 'ci', Secret: 's3cret-from-pass' }), stderr: '' }
    expect(helperCredentials(choice, REGISTRY, answer)).toEqual({ username: 'ci', password: 's3cret-from-pass' })
    expect(helperCredentials(choice, REGISTRY, { code: 1, stdout: 'credentials not found in native keychain\n', stderr: '' })).toBeUndefined()
  })
  it('refuses a failure, an identity token and an empty answer, naming the helper and the registry', () => {
    expect(() => helperCredentials(choice, REGISTRY, { code: 1, stdout: '', stderr: 'gpg: decryption failed: No secret key' })).toThrow(
      `the credential helper docker-credential-pass (credHelpers for ${REGISTRY} in the runner's Docker config) failed (exit code 1: gpg: decryption failed: No secret key)`
    )
    expect(() => helperCredentials(choice, REGISTRY, { code: 0, stdout: '{"Username":"<token>","Secret":"refresh-token"}', stderr: '' })).toThrow(
      /docker-credential-pass .* gave an identity token, not a user and password, which this action cannot use: give registry-username and registry-password/
    )
    expect(() => helperCredentials(choice, REGISTRY, { code: 0, stdout: '{"Username":"ci","Secret":""}', stderr: '' })).toThrow(/gave no user or no secret/)
    expect(() => helperCredentials(choice, REGISTRY, { code: 0, stdout: 'not json', stderr: '' })).toThrow(/not its JSON/)
  })
})

/** A real helper program in its own folder: answers `get` for REGISTRY and records what it was given. */
function helperProgram(name: string): { bin: string; seen: string } {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'sd-helper-'))
  const seen = path.join(bin, 'seen')
  writeFileSync(
    path.join(bin, `docker-credential-${name}`),
    [
      '#!/bin/sh',
      `read -r server || true`,
      `{ echo "arg=$1"; echo "server=$server"; env | grep -E '^(AWS_|INPUT_|GITHUB_TOKEN)' | cut -d= -f1 | sort; } > ${seen}`,
      `if [ "$server" = "${REGISTRY}" ]; then printf '{"ServerURL":"%s","Username":"ci","Secret":"registry-pw"}' "$server"; exit 0; fi`,
      'echo "credentials not found in native keychain"; exit 1',
      ''
    ].join('\n'),
    { mode: 0o755 }
  )
  return { bin, seen }
}

describe('runCredentialHelper', () => {
  it("runs docker-credential-<name> get with the server on stdin, and the AWS credentials but not the runner's inputs or token", async () => {
    const { bin, seen } = helperProgram('lab')
    const env = { PATH: `${bin}:/usr/bin:/bin`, AWS_ACCESS_KEY_ID: 'AKIA', 'INPUT_REGISTRY-PASSWORD': 'pw', GITHUB_TOKEN: 'ghs_x' }
    const log = { info: () => undefined, warn: () => undefined }
    const hide = () => undefined
    const got = await helperLogin(REGISTRY, { stores: { credHelpers: { [REGISTRY]: 'lab' } }, env, run: runCredentialHelper, log, hide })
    expect(got).toEqual({ username: 'ci', password: 'registry-pw' })
    expect(readFileSync(seen, 'utf8')).toBe(`arg=get\nserver=${REGISTRY}\nAWS_ACCESS_KEY_ID\n`)
  })

  it('says which helper for which registry is missing', async () => {
    const env = { PATH: mkdtempSync(path.join(os.tmpdir(), 'sd-empty-')) }
    await expect(runCredentialHelper('nowhere', REGISTRY, env)).rejects.toBeInstanceOf(HelperMissing)
    const log = { info: () => undefined, warn: () => undefined }
    const hide = () => undefined
    await expect(helperLogin(REGISTRY, { stores: { credHelpers: { [REGISTRY]: 'nowhere' } }, env, run: runCredentialHelper, log, hide })).rejects.toThrow(
      `the credential helper docker-credential-nowhere (credHelpers for ${REGISTRY} in the runner's Docker config) is not on the runner's PATH. Install it, remove it from the config, or give registry-username and registry-password. Nothing was built or deployed.`
    )
  })

  it('warns, and goes on without a login, when the helper keeps none for the registry', async () => {
    const { bin } = helperProgram('lab')
    const warnings: string[] = []
    const log = { info: () => undefined, warn: (line: string) => void warnings.push(line) }
    const got = await helperLogin('quay.io', {
      stores: { credsStore: 'lab', credHelpers: {} },
      env: { PATH: bin },
      run: runCredentialHelper,
      log,
      hide: () => undefined
    })
    expect(got).toBeUndefined()
    expect(warnings).toEqual([
      "the credential helper docker-credential-lab (credsStore for quay.io in the runner's Docker config) has no login for it: going on without one (a private image cannot be pushed or pulled; give registry-username and registry-password)"
    ])
  })
})

describe("the run's throwaway Docker config", () => {
  it("knows the user's helpers, keeps no credsStore, and the login drops the registry's helper under docker's own key", async () => {
    const user = mkdtempSync(path.join(os.tmpdir(), 'sd-user-'))
    writeFileSync(
      path.join(user, 'config.json'),
      JSON.stringify({ credsStore: 'desktop', credHelpers: { 'https://index.docker.io/v1/': 'pass', 'gcr.io': 'gcloud' }, auths: {} })
    )
    const workdir = await createWorkdir(mkdtempSync(path.join(os.tmpdir(), 'sd-parent-')), { DOCKER_CONFIG: user }, noLeftovers)
    try {
      expect(workdir.credentialStores).toEqual({ credsStore: 'desktop', credHelpers: { 'https://index.docker.io/v1/': 'pass', 'gcr.io': 'gcloud' } })
      const cli = { run: async () => ({ code: 0, stdout: '', stderr: '', timedOut: false }) }
      await login(cli, workdir.dockerConfig, { registry: 'docker.io', username: 'me', password: 'pw' })
      const written = JSON.parse(readFileSync(path.join(workdir.dockerConfig, 'config.json'), 'utf8')) as Record<string, unknown>
      expect(written.credsStore).toBeUndefined()
      // docker login to Docker Hub looks the helper up under its index URL: left there, it would take the password.
      expect(written.credHelpers).toEqual({ 'gcr.io': 'gcloud' })
    } finally {
      await workdir.remove()
    }
  })
})

describe('the engine with a credential helper', () => {
  function world(helper: string) {
    const fake = fakeWorld()
    const config = path.join(fake.host.env.HOME!, '.docker')
    mkdirSync(config, { recursive: true })
    writeFileSync(path.join(config, 'config.json'), JSON.stringify({ credHelpers: { [REGISTRY]: helper } }))
    fake.files.set('docker-compose.yml', COMPOSE)
    return fake
  }
  const fromHelper: HelperRun = async (helper, server) =>
    helper === 'lab'
      ? { code: 0, stdout: JSON.stringify({ ServerURL: server, Username: 'ci', Secret: 'helper-secret-pw' }), stderr: '' }
      : Promise.reject(new HelperMissing(helper))
  const noInputLogin = (overrides: Partial<Inputs> = {}): Inputs => inputsFor({ registry: { registry: REGISTRY }, ...overrides })

  it("logs in with the helper's login, masked before anything prints, when the inputs give none", async () => {
    const fake = world('lab')
    const reporter = recordingReporter()
    const outcome = await runDeploy(noInputLogin(), fake.host, { ...fake.adapters, credentialHelper: fromHelper }, reporter)
    expect(outcome.stopped).toBeUndefined()
    expect(outcome.status).toBe('converged')
    expect(fake.loginStdin).toEqual(['helper-secret-pw'])
    expect(reporter.events.findIndex(e => e.kind === 'secret' && e.text === 'helper-secret-pw')).toBeLessThan(
      reporter.events.findIndex(e => e.kind === 'phase')
    )
    expect(reporter.lines()).toContain(`Logging in to ${REGISTRY} as ci with the login the credential helper docker-credential-lab`)
    expect(reporter.lines()).not.toContain('helper-secret-pw')
  })

  it('reads the digest of build: false with it', async () => {
    const fake = world('lab')
    const asked: string[] = []
    const registryFetch: typeof fetch = async (input, init) => {
      asked.push(new Headers(init?.headers).get('authorization') ?? 'anonymous')
      return new URL(String(input)).pathname.endsWith('/manifests/v1')
        ? new Response(null, { status: 200, headers: { 'docker-content-digest': `sha256:${'cd'.repeat(32)}` } })
        : new Response(null, { status: 404 })
    }
    const base = inputsFor()
    const outcome = await runDeploy(
      noInputLogin({ image: { ...base.image!, tags: ['v1'], build: false } }),
      fake.host,
      { ...fake.adapters, credentialHelper: fromHelper, registryFetch },
      recordingReporter()
    )
    expect(outcome.status).toBe('converged')
    expect(outcome.image?.pinned).toBe(`${REPO}:v1@sha256:${'cd'.repeat(32)}`)
    expect(fake.loginStdin).toEqual(['helper-secret-pw'])
  })

  it('stops before anything is built, pushed or deployed when the helper is missing, naming it and the registry', async () => {
    const fake = world('gone')
    const reporter = recordingReporter()
    const outcome = await runDeploy(noInputLogin(), fake.host, { ...fake.adapters, credentialHelper: fromHelper }, reporter)
    expect(outcome.stopped?.kind).toBe('error')
    expect(outcome.stopped?.message).toMatch(
      /^the credential helper docker-credential-gone \(credHelpers for registry\.example\.com:5000 in the runner's Docker config\) is not on the runner's PATH/
    )
    expect(fake.effects.filter(e => !['connect', 'tunnel closed'].includes(e))).toEqual([])
    expect(reporter.phases()).toEqual([])
  })
})

describe('a GitHub token that dies with the job', () => {
  const job = 'ghs_' + 'J'.repeat(36)
  it('is the job token on ghcr.io, any ghs_ token there, and nothing else', () => {
    expect(shortLivedToken({ registry: 'ghcr.io', password: job }, { GITHUB_TOKEN: job })).toBe('job-token')
    expect(shortLivedToken({ registry: 'ghcr.io', password: job }, {})).toBe('installation-token')
    expect(shortLivedToken({ registry: 'docker.pkg.github.com', password: job }, {})).toBe('installation-token')
    expect(shortLivedToken({ registry: 'containers.ghe.example.com', password: job }, { GITHUB_SERVER_URL: 'https://ghe.example.com' })).toBe(
      'installation-token'
    )
    expect(shortLivedToken({ registry: 'ghcr.io', password: 'ghp_' + 'P'.repeat(36) }, { GITHUB_TOKEN: job })).toBeUndefined()
    expect(shortLivedToken({ registry: REGISTRY, password: job }, { GITHUB_TOKEN: job })).toBeUndefined()
  })

  it('gets a warning in a deploy: what breaks, what Swarm shows, and what to use instead', async () => {
    const fake = fakeWorld({ env: { GITHUB_TOKEN: job } })
    fake.files.set('docker-compose.yml', COMPOSE)
    const reporter = recordingReporter()
    const base = inputsFor()
    const outcome = await runDeploy(
      inputsFor({ registry: { registry: 'ghcr.io', username: 'acme', password: job }, image: { ...base.image!, repository: 'ghcr.io/acme/shop' } }),
      fake.host,
      fake.adapters,
      reporter
    )
    expect(outcome.stopped).toBeUndefined()
    const warning = shortLivedWarning('ghcr.io', 'job-token')
    expect(reporter.events.filter(e => e.kind === 'warn').map(e => e.text)).toContain(warning)
    expect(warning).toContain("the job's GITHUB_TOKEN, which expires when the job ends")
    expect(warning).toContain('fails with "No such image: <image>@sha256:…"')
    expect(warning).toContain('a personal access token (classic) with the read:packages scope')
    expect(reporter.lines()).not.toContain(job)
  })
})

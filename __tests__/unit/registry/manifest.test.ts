import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { CliOptions, CliResult, DockerCli } from '../../../src/ports.js'
import type { ImageBuild } from '../../../src/inputs/inputs.js'
import { credentialsFromConfig } from '../../../src/registry/credentials/docker-config.js'
import { insecureForDaemon, registryHost, resolveExisting } from '../../../src/registry/existing.js'
import { apiHost, MANIFEST_TYPES, parseChallenge, resolveDigest, resolveTag, TagNotFound, tokenUrl } from '../../../src/registry/manifest.js'
import type { ManifestQuery } from '../../../src/registry/manifest.js'
import type { StandIn, StandInOptions } from '../../support/stand-in-registry.js'
import { sha256, startStandIn } from '../../support/stand-in-registry.js'

const HEALTHCHECK = {
  Test: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1'],
  Interval: 1_000_000_000,
  Timeout: 2_000_000_000,
  StartPeriod: 2_000_000_000,
  Retries: 2
}
const CONFIG = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Healthcheck: HEALTHCHECK } })
const IMAGE = {
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  body: JSON.stringify({ schemaVersion: 2, config: { digest: sha256(CONFIG) } })
}
// A BuildKit index: the image, then its provenance attestation (platform unknown/unknown).
const ATTESTATION = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  body: JSON.stringify({ schemaVersion: 2, config: { digest: `sha256:${'3'.repeat(64)}` } })
}
const INDEX = {
  mediaType: 'application/vnd.oci.image.index.v1+json',
  body: JSON.stringify({
    schemaVersion: 2,
    manifests: [
      { digest: sha256(ATTESTATION.body), platform: { os: 'unknown', architecture: 'unknown' } },
      { digest: sha256(IMAGE.body), platform: { os: 'linux', architecture: 'amd64' } }
    ]
  })
}
const manifests = { 'acme/api': { v1: IMAGE, multi: INDEX, attestation: ATTESTATION }, 'library/nginx': { latest: IMAGE } }
const blobs = { [sha256(CONFIG)]: CONFIG }

let standIn: StandIn | undefined
afterEach(async () => {
  await standIn?.close()
  standIn = undefined
})

async function start(options: Omit<StandInOptions, 'manifests'> & { manifests?: StandInOptions['manifests'] }): Promise<StandIn> {
  standIn = await startStandIn({ manifests, blobs, ...options })
  return standIn
}

function query(registry: StandIn, overrides: Partial<ManifestQuery> = {}): ManifestQuery {
  return {
    registry: registry.registry,
    repository: 'acme/api',
    tag: 'v1',
    credentials: { username: 'ci', password: 'hunter2' },
    allowHttp: async () => true,
    deadline: Date.now() + 5_000,
    ...overrides
  }
}

describe('resolveDigest against a stand-in registry on loopback', () => {
  it('answers Basic auth (htpasswd registries, ECR) with the credentials and reads Docker-Content-Digest from a HEAD', async () => {
    const registry = await start({ auth: 'basic', username: 'ci', password: 'hunter2' })
    expect(await resolveDigest(query(registry))).toBe(registry.digestOf('acme/api', 'v1'))
    const asked = registry.seen.filter(s => s.path === '/v2/acme/api/manifests/v1')
    expect(asked.map(s => s.method)).toEqual(['HEAD', 'HEAD'])
    expect(asked[0]!.authorization).toBeUndefined()
    expect(asked[1]!.authorization).toBe(`Basic ${Buffer.from('ci:hunter2').toString('base64')}`)
    // Indexes and manifest lists first, so a multi-platform tag gives its index digest.
    expect(asked[1]!.accept).toBe(MANIFEST_TYPES.join(', '))
    expect(MANIFEST_TYPES).toEqual(
      expect.arrayContaining([
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.docker.distribution.manifest.v2+json'
      ])
    )
  })

  it('gives the digest of a multi-platform index, not of one of its images', async () => {
    const registry = await start({ auth: 'basic', username: 'ci', password: 'hunter2' })
    expect(await resolveDigest(query(registry, { tag: 'multi' }))).toBe(registry.digestOf('acme/api', 'multi'))
  })

  it('follows a Bearer challenge to its token service, with the credentials, for the repository pull scope', async () => {
    const registry = await start({ auth: 'bearer', username: 'ci', password: 'hunter2' })
    expect(await resolveDigest(query(registry))).toBe(registry.digestOf('acme/api', 'v1'))
    const token = registry.seen.find(s => s.path.startsWith('/token'))!
    expect(token.authorization).toBe(`Basic ${Buffer.from('ci:hunter2').toString('base64')}`)
    expect(new URL(token.path, 'http://x').searchParams.get('scope')).toBe('repository:acme/api:pull')
    expect(new URL(token.path, 'http://x').searchParams.get('service')).toBe('stand-in')
    expect(registry.seen.at(-1)!.authorization).toMatch(/^Bearer tok-/)
  })

  it('gets an anonymous token for a public image when there are no credentials', async () => {
    const registry = await start({ auth: 'bearer', anonymousTokens: true })
    expect(await resolveDigest(query(registry, { repository: 'library/nginx', tag: 'latest', credentials: undefined }))).toBe(
      registry.digestOf('library/nginx', 'latest')
    )
    expect(registry.seen.find(s => s.path.startsWith('/token'))!.authorization).toBeUndefined()
  })

  it('hashes the manifest itself when a HEAD answer has no digest header', async () => {
    const registry = await start({ auth: 'basic', username: 'ci', password: 'hunter2', noDigestOnHead: true })
    expect(await resolveDigest(query(registry))).toBe(registry.digestOf('acme/api', 'v1'))
    expect(registry.seen.at(-1)!.method).toBe('GET')
  })

  it('says a missing tag is missing, naming the tag and the registry, at once', async () => {
    const registry = await start({ auth: 'basic', username: 'ci', password: 'hunter2' })
    const started = Date.now()
    const error = await resolveDigest(query(registry, { tag: 'v9' })).catch((e: unknown) => e as Error)
    expect(error).toBeInstanceOf(TagNotFound)
    expect((error as Error).message).toBe(`tag v9 of acme/api was not found on registry ${registry.registry}`)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('names wrong credentials, and never sends the password anywhere but the Authorization header', async () => {
    const basicRegistry = await start({ auth: 'basic', username: 'ci', password: 'hunter2' })
    await expect(resolveDigest(query(basicRegistry, { credentials: { username: 'ci', password: 'wrong' } }))).rejects.toThrow(
      `registry ${basicRegistry.registry} refused user ci access to acme/api:v1 (HTTP 401: UNAUTHORIZED authentication required): the repository does not exist or these credentials cannot read it`
    )
    await expect(resolveDigest(query(basicRegistry, { credentials: undefined }))).rejects.toThrow(/needs credentials to read acme\/api:v1/)
    expect(basicRegistry.seen.map(s => s.path).join(' ')).not.toContain('hunter2')
    await basicRegistry.close()
    const bearer = await start({ auth: 'bearer', username: 'ci', password: 'hunter2' })
    await expect(resolveDigest(query(bearer, { credentials: { username: 'ci', password: 'wrong' } }))).rejects.toThrow(
      /token service http:\/\/127\.0\.0\.1:\d+ of registry .* refused a pull token for acme\/api \(HTTP 401: UNAUTHORIZED bad credentials\): check the credentials/
    )
  })

  it('uses plain http only when the caller allows it for this registry', async () => {
    const registry = await start({ auth: 'none' })
    let asked = 0
    const refuse = async (): Promise<boolean> => {
      asked++
      return false
    }
    await expect(resolveDigest(query(registry, { allowHttp: refuse }))).rejects.toThrow(
      new RegExp(
        `^cannot reach registry ${registry.registry} at https://${registry.registry}: .*\\(plain http is used only for a registry the runner's Docker treats as insecure\\)$`
      )
    )
    expect(asked).toBe(1)
    expect(registry.seen).toEqual([])
  })

  it('gives up on a registry that does not answer, by the deadline', async () => {
    const registry = await start({ auth: 'none', silent: true })
    const started = Date.now()
    // https to a server that never answers its handshake: no http fallback either.
    await expect(resolveDigest(query(registry, { deadline: Date.now() + 400 }))).rejects.toThrow(/did not answer .* within 1 s for acme\/api:v1/)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it("reads the image's HEALTHCHECK from its config, through an index past its attestation", async () => {
    const registry = await start({ auth: 'bearer', username: 'ci', password: 'hunter2' })
    expect(await resolveTag(query(registry))).toEqual({ digest: registry.digestOf('acme/api', 'v1'), healthcheck: HEALTHCHECK })
    expect(await resolveTag(query(registry, { tag: 'multi' }))).toEqual({ digest: registry.digestOf('acme/api', 'multi'), healthcheck: HEALTHCHECK })
    // A config the registry does not have leaves the healthcheck unknown, and the digest stands.
    expect(await resolveTag(query(registry, { tag: 'attestation' }))).toEqual({ digest: registry.digestOf('acme/api', 'attestation'), healthcheck: undefined })
  })

  it('fails on a registry error rather than guess', async () => {
    const registry = await start({ auth: 'none', status: 503 })
    await expect(resolveDigest(query(registry))).rejects.toThrow(`registry ${registry.registry} answered HTTP 503 for acme/api:v1: UNAVAILABLE try later`)
  })
})

describe('registry protocol pieces', () => {
  it('asks Docker Hub at its API host', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io')
    expect(apiHost('ghcr.io')).toBe('ghcr.io')
    expect(apiHost('10.77.0.1:5000')).toBe('10.77.0.1:5000')
  })

  it('reads WWW-Authenticate challenges as Docker Hub, ghcr.io, ECR and htpasswd registries send them', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' }
    })
    expect(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull"')?.params.realm).toBe('https://ghcr.io/token')
    expect(parseChallenge('Basic realm="https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",service="ecr.amazonaws.com"')).toEqual({
      scheme: 'basic',
      params: { realm: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/', service: 'ecr.amazonaws.com' }
    })
    expect(parseChallenge('Basic realm="swarm-lab"')).toEqual({ scheme: 'basic', params: { realm: 'swarm-lab' } })
    expect(parseChallenge('Negotiate')).toBeUndefined()
    expect(parseChallenge(null)).toBeUndefined()
  })

  it('sends credentials to a token realm over TLS only, or to the plain-http registry itself', () => {
    const hub = parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"')!
    expect(tokenUrl(hub, 'acme/api', new URL('https://registry-1.docker.io')).toString()).toBe(
      'https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Aacme%2Fapi%3Apull'
    )
    const elsewhere = parseChallenge('Bearer realm="http://auth.example.com/token"')!
    expect(() => tokenUrl(elsewhere, 'x', new URL('http://10.0.0.5:5000'))).toThrow('its token realm http://auth.example.com is not https')
    const own = parseChallenge('Bearer realm="http://10.0.0.5:5000/token"')!
    expect(tokenUrl(own, 'x', new URL('http://10.0.0.5:5000')).origin).toBe('http://10.0.0.5:5000')
    expect(() => tokenUrl(own, 'x', new URL('https://10.0.0.5:5000'))).toThrow(/is not https/)
  })

  it('finds a login in a Docker config under any spelling of the registry', () => {
    const auth = (user: string): string => Buffer.from(`${user}:pw:with:colons`).toString('base64')
    const config = JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: auth('hub') },
        'ghcr.io': { auth: auth('gh') },
        'https://registry.example.com:5000': { auth: auth('own') },
        'quay.io': { identitytoken: 'x' }
      }
    })
    expect(credentialsFromConfig(config, 'docker.io')).toEqual({ username: 'hub', password: 'pw:with:colons' })
    expect(credentialsFromConfig(config, 'ghcr.io')).toEqual({ username: 'gh', password: 'pw:with:colons' })
    expect(credentialsFromConfig(config, 'registry.example.com:5000')).toEqual({ username: 'own', password: 'pw:with:colons' })
    expect(credentialsFromConfig(config, 'quay.io')).toBeUndefined()
    expect(credentialsFromConfig(config, 'registry.example.com')).toBeUndefined()
    expect(credentialsFromConfig('not json', 'ghcr.io')).toBeUndefined()
  })

  it('allows plain http where the Docker daemon would', () => {
    const lab = { IndexConfigs: { '10.77.0.1:5000': { Secure: false }, 'docker.io': { Secure: true } }, InsecureRegistryCIDRs: ['127.0.0.0/8'] }
    expect(insecureForDaemon(lab, '10.77.0.1:5000', ['10.77.0.1'])).toBe(true)
    expect(insecureForDaemon(lab, '10.77.0.1:5001', ['10.77.0.1'])).toBe(false)
    expect(insecureForDaemon(lab, 'docker.io', ['127.0.0.1'])).toBe(false)
    expect(insecureForDaemon(lab, 'localhost:5000', ['127.0.0.1'])).toBe(true)
    expect(insecureForDaemon({ InsecureRegistryCIDRs: ['192.168.0.0/16'] }, 'registry:5000', ['192.168.4.2'])).toBe(true)
    expect(insecureForDaemon({ InsecureRegistryCIDRs: ['192.168.0.0/16'] }, 'registry:5000', ['10.1.2.3'])).toBe(false)
    // No daemon to ask: loopback only.
    expect(insecureForDaemon(undefined, '127.0.0.1:5000', ['127.0.0.1'])).toBe(true)
    expect(insecureForDaemon(undefined, '[::1]:5000', ['::1'])).toBe(true)
    expect(insecureForDaemon(undefined, '10.77.0.1:5000', ['10.77.0.1'])).toBe(false)
    expect(registryHost('10.77.0.1:5000')).toBe('10.77.0.1')
    expect(registryHost('[::1]:5000')).toBe('::1')
    expect(registryHost('ghcr.io')).toBe('ghcr.io')
  })
})

class FakeCli implements DockerCli {
  calls: string[][] = []
  constructor(private readonly registryConfig: object | undefined) {}
  async run(args: string[], _options?: CliOptions): Promise<CliResult> {
    this.calls.push(args)
    if (args[0] === 'info' && this.registryConfig) return { code: 0, stdout: JSON.stringify(this.registryConfig), stderr: '', timedOut: false }
    return { code: 1, stdout: '', stderr: 'Cannot connect to the Docker daemon', timedOut: false }
  }
}

const quiet = { info: (): void => undefined, warn: (): void => undefined }

function existing(repository: string, tags: string[]): ImageBuild {
  return {
    repository,
    tags,
    context: '.',
    dockerfile: 'Dockerfile',
    buildArgs: new Map(),
    build: false,
    cache: { kind: 'auto', actionsCache: false },
    platforms: []
  }
}

describe('resolveExisting (build: false)', () => {
  it('pins the first tag to the digest, reading the login from the Docker config, over http only as the runner daemon allows', async () => {
    const registry = await start({ auth: 'basic', username: 'ci', password: 'hunter2' })
    const configDir = mkdtempSync(path.join(os.tmpdir(), 'sd-unit-'))
    writeFileSync(
      path.join(configDir, 'config.json'),
      JSON.stringify({ auths: { [registry.registry]: { auth: Buffer.from('ci:hunter2').toString('base64') } } })
    )
    const cli = new FakeCli({ IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8'] })
    const image = await resolveExisting(cli, configDir, existing(`${registry.registry}/acme/api`, ['v1']), undefined, { reporter: quiet })
    const digest = registry.digestOf('acme/api', 'v1')
    expect(image).toEqual({ digest, pinned: `${registry.registry}/acme/api:v1@${digest}`, healthcheck: HEALTHCHECK })
    expect(cli.calls).toEqual([['info', '--format', '{{json .RegistryConfig}}']])
    // Reads only: no push, no upload.
    expect(registry.seen.every(s => s.method === 'HEAD' || s.method === 'GET')).toBe(true)
  })

  it('uses the credentials of the inputs when they are for this registry', async () => {
    const registry = await start({ auth: 'basic', username: 'ci', password: 'hunter2' })
    const image = await resolveExisting(
      new FakeCli(undefined),
      '/nonexistent',
      existing(`${registry.registry}/acme/api`, ['v1']),
      { registry: registry.registry, username: 'ci', password: 'hunter2' },
      { reporter: quiet }
    )
    expect(image.digest).toBe(registry.digestOf('acme/api', 'v1'))
  })

  it('fails on a missing tag with an error naming it and the registry, and says nothing was deployed', async () => {
    const registry = await start({ auth: 'basic', username: 'ci', password: 'hunter2' })
    const auth = { registry: registry.registry, username: 'ci', password: 'hunter2' }
    await expect(
      resolveExisting(new FakeCli({}), '/nonexistent', existing(`${registry.registry}/acme/api`, ['v9', 'latest']), auth, { reporter: quiet })
    ).rejects.toThrow(
      `image: tag v9 of acme/api was not found on registry ${registry.registry}. With build: false the tag must already be in the registry. Nothing was deployed.`
    )
  })

  it('never deploys the tag alone when the digest cannot be had', async () => {
    const registry = await start({ auth: 'none', status: 500 })
    await expect(
      resolveExisting(new FakeCli({}), '/nonexistent', existing(`${registry.registry}/acme/api`, ['v1']), undefined, { reporter: quiet })
    ).rejects.toThrow(
      /^image: cannot resolve 127\.0\.0\.1:\d+\/acme\/api:v1 to a digest: .*HTTP 500.*Nothing was deployed \(a tag alone is never deployed\)\.$/
    )
  })

  it('does not use plain http for a registry the runner daemon reaches over TLS', async () => {
    const registry = await start({ auth: 'none' })
    const daemon = { IndexConfigs: { [registry.registry]: { Secure: true } }, InsecureRegistryCIDRs: ['127.0.0.0/8'] }
    await expect(
      resolveExisting(new FakeCli(daemon), '/nonexistent', existing(`${registry.registry}/acme/api`, ['v1']), undefined, { reporter: quiet })
    ).rejects.toThrow(/plain http is used only for a registry the runner's Docker treats as insecure/)
    expect(registry.seen).toEqual([])
  })
})

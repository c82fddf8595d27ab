import { beforeEach, describe, expect, it } from '@jest/globals'
import { writeFileSync } from 'node:fs'
import type { BuildxBuilder as Buildx } from '../../../src/build/builder.js'
import { actionsCacheEnvironment, buildxArgs, buildxConfigDir, buildxEnvironment, cacheArgs, digestFromMetadata } from '../../../src/build/buildx.js'
import { buildAndPush, readyBuilder } from '../../../src/build/image.js'
import type { CliOptions, CliResult, DockerCli } from '../../../src/ports.js'
import type { ImageBuild } from '../../../src/inputs/inputs.js'
import { exitCode } from '../../../src/cli/main.js'
import { runDeploy } from '../../../src/engine.js'
import { COMPOSE, fakeWorld, inputsFor, recordingReporter } from '../../support/fake-world.js'

const DIGEST = `sha256:${'ab'.repeat(32)}`
const CONFIG = `sha256:${'cd'.repeat(32)}`

const CONTAINER: Buildx = { kind: 'buildx', driver: 'docker-container', store: undefined, cacheExport: true, multiPlatform: true }
const CONTAINERD: Buildx = { kind: 'buildx', driver: 'docker', store: 'containerd', cacheExport: true, multiPlatform: true }
const CLASSIC_STORE: Buildx = { kind: 'buildx', driver: 'docker', store: 'classic', cacheExport: false, multiPlatform: false }
// `docker info --format '{{json .DriverStatus}}'` on the lab's engines (engine 28.5).
const DRIVER_STATUS = {
  containerd: '[["driver-type","io.containerd.snapshotter.v1"]]',
  classic: '[["Backing Filesystem","extfs"],["Supports d_type","true"],["Using metacopy","false"],["Native Overlay Diff","true"],["userxattr","false"]]'
}

function image(overrides: Partial<ImageBuild> = {}): ImageBuild {
  return {
    repository: 'ghcr.io/acme/api',
    tags: ['abc', 'latest'],
    context: 'app',
    dockerfile: 'app/Dockerfile',
    buildArgs: new Map([['VERSION', 's3cr3t-build-value']]),
    build: true,
    cache: { kind: 'auto', actionsCache: false },
    platforms: [],
    ...overrides
  }
}

describe('buildx argv', () => {
  it('pushes every tag in one run, with build-arg names only, platforms and cache', () => {
    const args = buildxArgs(image({ platforms: ['linux/amd64', 'linux/arm64'] }), '/tmp/m.json', [
      '--cache-from',
      'type=gha',
      '--cache-to',
      'type=gha,mode=max'
    ])
    expect(args).toEqual([
      'buildx',
      'build',
      '--push',
      '--metadata-file',
      '/tmp/m.json',
      '--file',
      'app/Dockerfile',
      '--tag',
      'ghcr.io/acme/api:abc',
      '--tag',
      'ghcr.io/acme/api:latest',
      '--build-arg',
      'VERSION',
      '--platform',
      'linux/amd64,linux/arm64',
      '--cache-from',
      'type=gha',
      '--cache-to',
      'type=gha,mode=max',
      'app'
    ])
    expect(args.join(' ')).not.toContain('s3cr3t')
    expect(buildxArgs(image(), '/tmp/m.json', [])).not.toContain('--platform')
  })

  it('picks the cache: Actions cache, else a registry cache beside the image; off; or the given spec', () => {
    expect(cacheArgs({ kind: 'auto', actionsCache: true }, 'ghcr.io/acme/api', CONTAINER).args).toEqual([
      '--cache-from',
      'type=gha',
      '--cache-to',
      'type=gha,mode=max'
    ])
    expect(cacheArgs({ kind: 'auto', actionsCache: false }, 'ghcr.io/acme/api', CONTAINER).args).toEqual([
      '--cache-from',
      'type=registry,ref=ghcr.io/acme/api:buildcache',
      '--cache-to',
      'type=registry,ref=ghcr.io/acme/api:buildcache,mode=max'
    ])
    expect(cacheArgs({ kind: 'off' }, 'ghcr.io/acme/api', CONTAINER)).toEqual({ args: [], note: undefined })
    // Export-only attributes stay off the import side.
    expect(cacheArgs({ kind: 'given', value: 'type=registry,ref=r.example.com/c:x,mode=max,ignore-error=true' }, 'x', CONTAINER).args).toEqual([
      '--cache-from',
      'type=registry,ref=r.example.com/c:x',
      '--cache-to',
      'type=registry,ref=r.example.com/c:x,mode=max,ignore-error=true'
    ])
    expect(cacheArgs({ kind: 'given', value: 'type=gha,scope=api' }, 'x', CONTAINERD).args).toEqual([
      '--cache-from',
      'type=gha,scope=api',
      '--cache-to',
      'type=gha,scope=api'
    ])
  })

  it('gives the docker driver on the containerd image store the default cache, like a docker-container builder', () => {
    expect(cacheArgs({ kind: 'auto', actionsCache: false }, 'ghcr.io/acme/api', CONTAINERD)).toEqual({
      args: ['--cache-from', 'type=registry,ref=ghcr.io/acme/api:buildcache', '--cache-to', 'type=registry,ref=ghcr.io/acme/api:buildcache,mode=max'],
      note: 'Build cache: ghcr.io/acme/api:buildcache in the registry'
    })
    expect(cacheArgs({ kind: 'auto', actionsCache: true }, 'ghcr.io/acme/api', CONTAINERD).args).toEqual([
      '--cache-from',
      'type=gha',
      '--cache-to',
      'type=gha,mode=max'
    ])
  })

  it('leaves the default cache off on the classic image store, which cannot export one, and says so', () => {
    const plan = cacheArgs({ kind: 'auto', actionsCache: true }, 'ghcr.io/acme/api', CLASSIC_STORE)
    expect(plan).toEqual({
      args: [],
      note: "No build cache: the builder uses buildx's docker driver on the classic image store, which cannot export one. The containerd image store on the runner's engine, or a docker-container builder (docker/setup-buildx-action), gets the default cache."
    })
  })

  it("gives a gha cache the runner's Actions cache variables, which buildx reads, and no other build", () => {
    const runner = { ACTIONS_CACHE_URL: 'https://cache.example/', ACTIONS_RUNTIME_TOKEN: 'rt-token', ACTIONS_CACHE_SERVICE_V2: 'true', GITHUB_TOKEN: 'gh' }
    expect(actionsCacheEnvironment(['--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max'], runner)).toEqual({
      ACTIONS_CACHE_URL: 'https://cache.example/',
      ACTIONS_RUNTIME_TOKEN: 'rt-token',
      ACTIONS_CACHE_SERVICE_V2: 'true'
    })
    expect(actionsCacheEnvironment(['--cache-from', 'scope=api, type=gha', '--cache-to', 'scope=api, type=gha'], runner)).toHaveProperty(
      'ACTIONS_RUNTIME_TOKEN'
    )
    expect(actionsCacheEnvironment(['--cache-from', 'type=registry,ref=r/gha:x', '--cache-to', 'type=registry,ref=r/gha:x'], runner)).toEqual({})
    expect(actionsCacheEnvironment([], runner)).toEqual({})
  })

  it('reads the pushed digest from the metadata file', () => {
    const metadata = {
      'buildx.build.ref': 'builder/builder0/x1',
      'containerimage.config.digest': CONFIG,
      'containerimage.descriptor': { mediaType: 'application/vnd.oci.image.index.v1+json', digest: DIGEST, size: 856 },
      'containerimage.digest': DIGEST,
      'image.name': 'ghcr.io/acme/api:abc,ghcr.io/acme/api:latest'
    }
    expect(digestFromMetadata(JSON.stringify(metadata))).toBe(DIGEST)
    expect(digestFromMetadata(JSON.stringify({ 'buildx.build.ref': 'x' }))).toBeUndefined()
    expect(digestFromMetadata(JSON.stringify({ 'containerimage.digest': 'sha256:short' }))).toBeUndefined()
    expect(digestFromMetadata('')).toBeUndefined()
  })

  it("keeps the user's buildx builders visible through the throwaway DOCKER_CONFIG", () => {
    expect(buildxConfigDir({ BUILDX_CONFIG: '/opt/bx' }, '/home/u')).toBe('/opt/bx')
    expect(buildxConfigDir({ DOCKER_CONFIG: '/etc/dc' }, '/home/u')).toBe('/etc/dc/buildx')
    expect(buildxConfigDir({}, '/home/u')).toBe('/home/u/.docker/buildx')
  })

  it("points buildx at the user's builders only where they exist: else its state stays in the throwaway config", () => {
    const there = (dir: string) => (p: string) => p === dir
    expect(buildxEnvironment({ HOME: '/home/u' }, there('/home/u/.docker/buildx')).BUILDX_CONFIG).toBe('/home/u/.docker/buildx')
    expect(buildxEnvironment({ HOME: '/home/u' }, there('/elsewhere'))).not.toHaveProperty('BUILDX_CONFIG')
    expect(buildxEnvironment({ HOME: '/home/u', BUILDX_CONFIG: '/opt/bx' }, there('/elsewhere')).BUILDX_CONFIG).toBe('/opt/bx')
  })

  it('builds without default attestations (a provenance would give the same source a new digest each build), unless the runner says otherwise', () => {
    const none = () => false
    expect(buildxEnvironment({ HOME: '/h' }, none).BUILDX_NO_DEFAULT_ATTESTATIONS).toBe('1')
    expect(buildxEnvironment({ HOME: '/h', BUILDX_NO_DEFAULT_ATTESTATIONS: '0' }, none).BUILDX_NO_DEFAULT_ATTESTATIONS).toBe('0')
  })
})

/** A docker CLI with or without buildx that records its calls and writes the metadata file a real buildx would. */
class FakeCli implements DockerCli {
  calls: Array<{ args: string[]; env: Record<string, string> | undefined }> = []
  constructor(
    private readonly buildx: boolean,
    private readonly driver = 'docker-container',
    private readonly store: keyof typeof DRIVER_STATUS = 'classic'
  ) {}
  async run(args: string[], options?: CliOptions): Promise<CliResult> {
    this.calls.push({ args, env: options?.env })
    const ok = (stdout = ''): CliResult => ({ code: 0, stdout, stderr: '', timedOut: false })
    if (args[0] === 'buildx') {
      if (!this.buildx) return { code: 1, stdout: '', stderr: 'docker: unknown command: docker buildx', timedOut: false }
      if (args.includes('inspect')) return ok(`Name: b\nDriver: ${this.driver}\n`)
      if (args[1] === 'build') writeFileSync(args[args.indexOf('--metadata-file') + 1]!, JSON.stringify({ 'containerimage.digest': DIGEST }))
      return ok()
    }
    if (args[0] === 'info') return ok(`${DRIVER_STATUS[this.store]}\n`)
    if (args[0] === 'push') return ok(`${args[1]}: digest: ${DIGEST} size: 528\n`)
    if (args[0] === 'image') return ok(`["ghcr.io/acme/api@${DIGEST}"]\tnull`)
    return ok()
  }
}

describe('buildAndPush with the builder readyBuilder found', () => {
  let reporter: ReturnType<typeof recordingReporter>
  let context: { env: Record<string, string>; reporter: typeof reporter }
  const warnings = (): string[] => reporter.events.filter(e => e.kind === 'warn').map(e => e.text)
  const infos = (): string[] => reporter.events.filter(e => e.kind === 'info').map(e => e.text)
  const build = async (cli: FakeCli, built: ImageBuild) => buildAndPush(cli, built, await readyBuilder(cli, built, context.env), context)
  beforeEach(() => {
    reporter = recordingReporter()
    context = { env: { HOME: '/home/u', PATH: '/usr/bin' }, reporter }
  })

  it('with buildx: one buildx build --push, digest from its metadata, the same buildx variables for every call, no docker push', async () => {
    const cli = new FakeCli(true)
    const pushed = await build(cli, image({ platforms: ['linux/amd64', 'linux/arm64'] }))
    expect(pushed).toEqual({ digest: DIGEST, pinned: `ghcr.io/acme/api:abc@${DIGEST}`, healthcheck: undefined })
    expect(cli.calls.map(c => c.args.slice(0, 2).join(' '))).toEqual(['buildx version', 'buildx --debug', 'buildx build'])
    // /home/u/.docker/buildx does not exist: buildx keeps its state in the throwaway config.
    for (const call of cli.calls) expect(call.env).toMatchObject({ BUILDX_NO_DEFAULT_ATTESTATIONS: '1' })
    for (const call of cli.calls) expect(call.env).not.toHaveProperty('BUILDX_CONFIG')
    const buildCall = cli.calls[2]!
    expect(buildCall.args).toEqual(
      expect.arrayContaining(['--push', '--platform', 'linux/amd64,linux/arm64', '--cache-to', 'type=registry,ref=ghcr.io/acme/api:buildcache,mode=max'])
    )
    // Build-arg values travel in the environment only.
    expect(buildCall.env?.VERSION).toBe('s3cr3t-build-value')
  })

  it('the docker driver on the containerd image store: the registry cache, and the engine asked once', async () => {
    const cli = new FakeCli(true, 'docker', 'containerd')
    await build(cli, image())
    expect(cli.calls.map(c => c.args[0] === 'info')).toEqual([false, false, true, false, false])
    expect(cli.calls[3]!.args).toEqual(expect.arrayContaining(['--cache-to', 'type=registry,ref=ghcr.io/acme/api:buildcache,mode=max']))
    expect(infos()).toEqual([
      "Building with BuildKit (buildx's docker driver on the containerd image store)",
      'Build cache: ghcr.io/acme/api:buildcache in the registry'
    ])
  })

  it('the docker driver on the classic image store: no cache by default, and a given cache refused before any build', async () => {
    const cli = new FakeCli(true, 'docker', 'classic')
    await build(cli, image())
    expect(cli.calls.find(c => c.args[1] === 'build')!.args).not.toContain('--cache-to')
    expect(infos()[1]).toMatch(/^No build cache: the builder uses buildx's docker driver on the classic image store/)
    const refused = new FakeCli(true, 'docker', 'classic')
    await expect(build(refused, image({ cache: { kind: 'given', value: 'type=registry,ref=r.example.com/c:x' } }))).rejects.toThrow(
      /^cache: the builder \(buildx's docker driver on the classic image store\) cannot export a build cache: turn on the containerd image store/
    )
    expect(refused.calls.map(c => c.args.slice(0, 2).join(' '))).toEqual(['buildx version', 'buildx --debug', 'info --format'])
  })

  it('a gha cache: the Actions cache variables reach buildx build, and no other docker call', async () => {
    const cli = new FakeCli(true)
    context.env = { ...context.env, ACTIONS_RESULTS_URL: 'https://results.example/', ACTIONS_RUNTIME_TOKEN: 'rt-token' }
    await build(cli, image({ cache: { kind: 'auto', actionsCache: true } }))
    const withToken = cli.calls.filter(c => c.env?.ACTIONS_RUNTIME_TOKEN === 'rt-token').map(c => c.args.slice(0, 2).join(' '))
    expect(withToken).toEqual(['buildx build'])
    expect(cli.calls[2]!.env?.ACTIONS_RESULTS_URL).toBe('https://results.example/')
  })

  it('without buildx: platforms is an error before anything is built', async () => {
    const cli = new FakeCli(false)
    await expect(build(cli, image({ platforms: ['linux/arm64'] }))).rejects.toThrow(
      /^platforms: the runner's docker has no buildx plugin .*Nothing was built\.$/
    )
    expect(cli.calls.map(c => c.args[0])).toEqual(['buildx'])
  })

  it('without buildx: a given cache gives one warning and the classic builder builds and pushes', async () => {
    const cli = new FakeCli(false)
    const pushed = await build(cli, image({ cache: { kind: 'given', value: 'type=gha' } }))
    expect(pushed.digest).toBe(DIGEST)
    expect(cli.calls.map(c => c.args[0])).toEqual(['buildx', 'build', 'push', 'push', 'image'])
    expect(warnings()).toEqual(["cache: the runner's docker has no buildx plugin, so the classic builder runs and the cache input is not used"])
  })

  it('without buildx: the default cache says nothing', async () => {
    await build(new FakeCli(false), image())
    expect(warnings()).toEqual([])
  })
})

describe('the engine on a runner without buildx', () => {
  it('stops on platforms before the login: nothing logged in, built, pushed or deployed', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    const base = inputsFor()
    const outcome = await runDeploy({ ...base, image: { ...base.image!, platforms: ['linux/arm64'] } }, fake.host, fake.adapters, recordingReporter())
    expect(outcome.stopped).toMatchObject({ kind: 'input', message: expect.stringMatching(/^platforms: the runner's docker has no buildx plugin/) })
    expect(exitCode(outcome)).toBe(2)
    // The SSH handshake may have begun meanwhile; nothing else happened.
    expect(fake.effects.filter(e => !['connect', 'tunnel closed'].includes(e))).toEqual([])
  })
})

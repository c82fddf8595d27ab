import { beforeEach, describe, expect, it } from '@jest/globals'
import { writeFileSync } from 'node:fs'
import { buildxArgs, buildxConfigDir, cacheArgs, digestFromMetadata, driverOf } from '../../../src/build/buildx.js'
import { buildAndPush } from '../../../src/build/image.js'
import type { CliOptions, CliResult, DockerCli } from '../../../src/ports.js'
import type { ImageBuild } from '../../../src/inputs/inputs.js'
import { exitCode } from '../../../src/cli/main.js'
import { runDeploy } from '../../../src/engine.js'
import { COMPOSE, fakeWorld, inputsFor, recordingReporter } from '../../support/fake-world.js'

const DIGEST = `sha256:${'ab'.repeat(32)}`
const CONFIG = `sha256:${'cd'.repeat(32)}`

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
    expect(cacheArgs({ kind: 'auto', actionsCache: true }, 'ghcr.io/acme/api', 'docker-container').args).toEqual([
      '--cache-from',
      'type=gha',
      '--cache-to',
      'type=gha,mode=max'
    ])
    expect(cacheArgs({ kind: 'auto', actionsCache: false }, 'ghcr.io/acme/api', 'docker-container').args).toEqual([
      '--cache-from',
      'type=registry,ref=ghcr.io/acme/api:buildcache',
      '--cache-to',
      'type=registry,ref=ghcr.io/acme/api:buildcache,mode=max'
    ])
    expect(cacheArgs({ kind: 'off' }, 'ghcr.io/acme/api', 'docker-container')).toEqual({ args: [], note: undefined })
    // Export-only attributes stay off the import side.
    expect(cacheArgs({ kind: 'given', value: 'type=registry,ref=r.example.com/c:x,mode=max,ignore-error=true' }, 'x', 'docker-container').args).toEqual([
      '--cache-from',
      'type=registry,ref=r.example.com/c:x',
      '--cache-to',
      'type=registry,ref=r.example.com/c:x,mode=max,ignore-error=true'
    ])
    expect(cacheArgs({ kind: 'given', value: 'type=gha,scope=api' }, 'x', 'docker').args).toEqual([
      '--cache-from',
      'type=gha,scope=api',
      '--cache-to',
      'type=gha,scope=api'
    ])
  })

  it('leaves the default cache off on the docker driver, which cannot export one, and says so', () => {
    const plan = cacheArgs({ kind: 'auto', actionsCache: true }, 'ghcr.io/acme/api', 'docker')
    expect(plan.args).toEqual([])
    expect(plan.note).toMatch(/docker driver, which cannot export one/)
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

  it('reads the builder driver from docker buildx inspect', () => {
    const output =
      'Name:          builder-1\nDriver:        docker-container\nLast Activity: 2026-12-01 10:00:00 +0000 UTC\n\nNodes:\nName:      builder-10\nEndpoint:  unix:///var/run/docker.sock\nStatus:    running\n'
    expect(driverOf(output)).toBe('docker-container')
    expect(driverOf('Name: default\nDriver: docker\n')).toBe('docker')
    expect(driverOf('')).toBeUndefined()
  })

  it("keeps the user's buildx builders visible through the throwaway DOCKER_CONFIG", () => {
    expect(buildxConfigDir({ BUILDX_CONFIG: '/opt/bx' }, '/home/u')).toBe('/opt/bx')
    expect(buildxConfigDir({ DOCKER_CONFIG: '/etc/dc' }, '/home/u')).toBe('/etc/dc/buildx')
    expect(buildxConfigDir({}, '/home/u')).toBe('/home/u/.docker/buildx')
  })
})

/** A docker CLI with or without buildx that records its calls and writes the metadata file a real buildx would. */
class FakeCli implements DockerCli {
  calls: Array<{ args: string[]; env: Record<string, string> | undefined }> = []
  constructor(
    private readonly buildx: boolean,
    private readonly driver = 'docker-container'
  ) {}
  async run(args: string[], options?: CliOptions): Promise<CliResult> {
    this.calls.push({ args, env: options?.env })
    const ok = (stdout = ''): CliResult => ({ code: 0, stdout, stderr: '', timedOut: false })
    if (args[0] === 'buildx') {
      if (!this.buildx) return { code: 1, stdout: '', stderr: 'docker: unknown command: docker buildx', timedOut: false }
      if (args[1] === 'inspect') return ok(`Name: b\nDriver: ${this.driver}\n`)
      if (args[1] === 'build') writeFileSync(args[args.indexOf('--metadata-file') + 1]!, JSON.stringify({ 'containerimage.digest': DIGEST }))
      return ok()
    }
    if (args[0] === 'push') return ok(`${args[1]}: digest: ${DIGEST} size: 528\n`)
    if (args[0] === 'image') return ok(`["ghcr.io/acme/api@${DIGEST}"]\tnull`)
    return ok()
  }
}

describe('buildAndPush picks the builder', () => {
  let reporter: ReturnType<typeof recordingReporter>
  let context: { env: Record<string, string>; reporter: typeof reporter }
  const warnings = (): string[] => reporter.events.filter(e => e.kind === 'warn').map(e => e.text)
  beforeEach(() => {
    reporter = recordingReporter()
    context = { env: { HOME: '/home/u', PATH: '/usr/bin' }, reporter }
  })

  it('with buildx: one buildx build --push, digest from its metadata, BUILDX_CONFIG set, no docker push', async () => {
    const cli = new FakeCli(true)
    const pushed = await buildAndPush(cli, image({ platforms: ['linux/amd64', 'linux/arm64'] }), context)
    expect(pushed).toEqual({ digest: DIGEST, pinned: `ghcr.io/acme/api:abc@${DIGEST}`, healthcheck: undefined })
    expect(cli.calls.map(c => c.args.slice(0, 2).join(' '))).toEqual(['buildx version', 'buildx inspect', 'buildx build'])
    for (const call of cli.calls) expect(call.env?.BUILDX_CONFIG).toBe('/home/u/.docker/buildx')
    const build = cli.calls[2]!
    expect(build.args).toEqual(
      expect.arrayContaining(['--push', '--platform', 'linux/amd64,linux/arm64', '--cache-to', 'type=registry,ref=ghcr.io/acme/api:buildcache,mode=max'])
    )
    // Build-arg values travel in the environment only.
    expect(build.env?.VERSION).toBe('s3cr3t-build-value')
  })

  it('without buildx: platforms is an error before anything is built', async () => {
    const cli = new FakeCli(false)
    await expect(buildAndPush(cli, image({ platforms: ['linux/arm64'] }), context)).rejects.toThrow(
      /^platforms: the runner's docker has no buildx plugin .*Nothing was built\.$/
    )
    expect(cli.calls.map(c => c.args[0])).toEqual(['buildx'])
  })

  it('without buildx: a given cache gives one warning and the classic builder builds and pushes', async () => {
    const cli = new FakeCli(false)
    const pushed = await buildAndPush(cli, image({ cache: { kind: 'given', value: 'type=gha' } }), context)
    expect(pushed.digest).toBe(DIGEST)
    expect(cli.calls.map(c => c.args[0])).toEqual(['buildx', 'build', 'push', 'push', 'image'])
    expect(warnings()).toEqual(["cache: the runner's docker has no buildx plugin, so the classic builder runs and the cache input is not used"])
  })

  it('without buildx: the default cache says nothing', async () => {
    await buildAndPush(new FakeCli(false), image(), context)
    expect(warnings()).toEqual([])
  })
})

describe('the engine on a runner without buildx', () => {
  it('stops on platforms after the login, before anything is built, pushed or deployed', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    const base = inputsFor()
    const outcome = await runDeploy({ ...base, image: { ...base.image!, platforms: ['linux/arm64'] } }, fake.host, fake.adapters, recordingReporter())
    expect(outcome.stopped).toMatchObject({ kind: 'input', message: expect.stringMatching(/^platforms: the runner's docker has no buildx plugin/) })
    expect(exitCode(outcome)).toBe(2)
    // The SSH handshake may have begun meanwhile; nothing was built, pushed or deployed.
    expect(fake.effects.filter(e => !['connect', 'tunnel closed'].includes(e))).toEqual(['login'])
  })
})

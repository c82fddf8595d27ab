// The builder's abilities, decided from what buildx and the engine said on
// the lab (engine 28.5, buildx 0.29.1; __tests__/fixtures/builder/README.md
// says how each file was recorded).
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BuildxBuilder as Buildx, ImageStore } from '../../../src/build/builder.js'
import { builderOf, cacheType, imageStoreOf, parseBuildxInspect, probeBuilder, refusal } from '../../../src/build/builder.js'
import type { BuildCache } from '../../../src/inputs/build-inputs.js'
import type { CliOptions, CliResult, DockerCli } from '../../../src/ports.js'

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/builder')
const recorded = (name: string): string => readFileSync(path.join(dir, name), 'utf8')

const INSPECT_CONTAINERD = recorded('inspect-debug-docker-containerd.txt')
const INSPECT_CLASSIC = recorded('inspect-debug-docker-classic.txt')
const INSPECT_PLAIN = recorded('inspect-docker-containerd.txt')
const INSPECT_CONTAINER = recorded('inspect-debug-docker-container.txt')
const STATUS_CONTAINERD = recorded('driver-status-containerd.json')
const STATUS_CLASSIC = recorded('driver-status-classic.json')

const buildx = (over: Partial<Buildx> = {}): Buildx => ({
  kind: 'buildx',
  driver: 'docker',
  store: 'containerd',
  cacheExport: true,
  multiPlatform: true,
  ...over
})
const given = (value: string): BuildCache => ({ kind: 'given', value })
const AUTO: BuildCache = { kind: 'auto', actionsCache: false }

describe('what buildx says of its builder', () => {
  it('reads the driver and, with --debug, buildx 0.29’s own Features', () => {
    const containerd = parseBuildxInspect(INSPECT_CONTAINERD)
    expect(containerd.driver).toBe('docker')
    expect(containerd.features.get('Cache export')).toBe(true)
    expect(containerd.features.get('Multi-platform build')).toBe(true)
    const classic = parseBuildxInspect(INSPECT_CLASSIC)
    expect(classic.driver).toBe('docker')
    expect(classic.features.get('Cache export')).toBe(false)
    expect(classic.features.get('Multi-platform build')).toBe(false)
    // Nothing after the Features block (Labels, GC policy) is read as one.
    for (const name of [...containerd.features.keys(), ...classic.features.keys()]) expect(name).not.toMatch(/^org\.|^Labels|GC/)
  })

  it('gives no Features without --debug (or from an older buildx): the engine is asked instead', () => {
    const plain = parseBuildxInspect(INSPECT_PLAIN)
    expect(plain).toEqual({ driver: 'docker', features: new Map() })
    expect(parseBuildxInspect('')).toEqual({ driver: undefined, features: new Map() })
  })

  it('reads a docker-container builder that has not booted yet', () => {
    const container = parseBuildxInspect(INSPECT_CONTAINER)
    expect(container.driver).toBe('docker-container')
    expect(builderOf(container, undefined)).toMatchObject({ cacheExport: true, multiPlatform: true })
  })
})

describe("the engine's image store", () => {
  it('is containerd where DriverStatus has driver-type io.containerd.snapshotter.v1, else classic', () => {
    expect(imageStoreOf(STATUS_CONTAINERD)).toBe('containerd')
    expect(imageStoreOf(STATUS_CLASSIC)).toBe('classic')
    expect(imageStoreOf('null')).toBe('classic')
    expect(imageStoreOf('')).toBeUndefined()
    expect(imageStoreOf('<no value>')).toBeUndefined()
  })
})

describe('what the builder can do', () => {
  it.each<[string, string, ImageStore | undefined, boolean]>([
    ['docker driver, containerd store (buildx says)', INSPECT_CONTAINERD, 'containerd', true],
    ['docker driver, classic store (buildx says)', INSPECT_CLASSIC, 'classic', false],
    ['docker driver, containerd store (the engine says)', INSPECT_PLAIN, 'containerd', true],
    ['docker driver, classic store (the engine says)', INSPECT_PLAIN, 'classic', false],
    ['docker driver, engine unknown', INSPECT_PLAIN, undefined, false]
  ])('%s', (_name, inspect, store, able) => {
    expect(builderOf(parseBuildxInspect(inspect), store)).toEqual({ kind: 'buildx', driver: 'docker', store, cacheExport: able, multiPlatform: able })
  })

  it("takes buildx's word over the engine's", () => {
    expect(builderOf(parseBuildxInspect(INSPECT_CLASSIC), 'containerd').cacheExport).toBe(false)
  })
})

describe('a build the builder cannot run is refused before anything is built', () => {
  const classicStore = buildx({ store: 'classic', cacheExport: false, multiPlatform: false })

  it("refuses a cache on the docker driver's classic store, in buildx's words, with what to do", () => {
    const refused = refusal({ cache: given('type=registry,ref=r.example.com/app:cache,mode=max'), platforms: [] }, classicStore)
    expect(refused?.message).toBe(
      'cache: the builder (buildx\'s docker driver on the classic image store) cannot export a build cache: turn on the containerd image store on the runner\'s engine ("features": {"containerd-snapshotter": true} in daemon.json), or use a docker-container builder (docker/setup-buildx-action), or set cache: false. Nothing was built.'
    )
    expect(refusal({ cache: given('type=gha'), platforms: [] }, classicStore)?.message).toMatch(/^cache: /)
    // A bare reference is a registry cache to buildx.
    expect(refusal({ cache: given('r.example.com/app:cache'), platforms: [] }, classicStore)).toBeDefined()
  })

  it('lets through what that builder can do: no cache, the default, an inline cache, one platform', () => {
    for (const cache of [AUTO, { kind: 'off' } as BuildCache, given('type=inline')])
      expect(refusal({ cache, platforms: ['linux/amd64'] }, classicStore)).toBeUndefined()
  })

  it('refuses several platforms where the builder builds one', () => {
    expect(refusal({ cache: AUTO, platforms: ['linux/amd64', 'linux/arm64'] }, classicStore)?.message).toMatch(
      /^platforms: the builder \(buildx's docker driver on the classic image store\) cannot build for several platforms at once: turn on the containerd image store/
    )
  })

  it('refuses nothing on the containerd store or a docker-container builder', () => {
    const image = { cache: given('type=registry,ref=r.example.com/app:cache'), platforms: ['linux/amd64', 'linux/arm64'] }
    expect(refusal(image, buildx())).toBeUndefined()
    expect(refusal(image, buildx({ driver: 'docker-container', store: undefined }))).toBeUndefined()
  })

  it('names another driver that says it cannot export', () => {
    expect(refusal({ cache: given('type=gha'), platforms: [] }, buildx({ driver: 'remote', store: undefined, cacheExport: false }))?.message).toBe(
      "cache: the builder (buildx's remote driver) cannot export a build cache: use a builder that can (a docker-container builder, docker/setup-buildx-action), or set cache: false. Nothing was built."
    )
  })

  it('without buildx refuses platforms only', () => {
    expect(refusal({ cache: given('type=gha'), platforms: [] }, { kind: 'classic' })).toBeUndefined()
    expect(refusal({ cache: AUTO, platforms: ['linux/arm64'] }, { kind: 'classic' })?.message).toMatch(/^platforms: the runner's docker has no buildx plugin/)
  })

  it("reads a cache spec's type as buildx does", () => {
    expect(cacheType('type=gha,scope=api')).toBe('gha')
    expect(cacheType('mode=max, type=local,dest=/c')).toBe('local')
    expect(cacheType('ghcr.io/acme/api:cache')).toBe('registry')
  })
})

/** The runner's docker as the lab's answered: buildx 0.29 (with or without --debug support) on an engine with the given store. */
class RecordedCli implements DockerCli {
  calls: string[][] = []
  constructor(private readonly answers: { buildx: boolean; debug: boolean; inspect: string; status: string }) {}
  async run(args: string[], _options?: CliOptions): Promise<CliResult> {
    this.calls.push(args)
    const ok = (stdout: string): CliResult => ({ code: 0, stdout, stderr: '', timedOut: false })
    const fail = (stderr: string): CliResult => ({ code: 1, stdout: '', stderr, timedOut: false })
    if (args[0] === 'buildx' && !this.answers.buildx) return fail("docker: 'buildx' is not a docker command.")
    if (args.join(' ') === 'buildx version') return ok('github.com/docker/buildx 0.29.1+ds1 0.29.1+ds1-4\n')
    if (args.join(' ') === 'buildx --debug inspect') return this.answers.debug ? ok(this.answers.inspect) : fail('unknown flag: --debug')
    if (args.join(' ') === 'buildx inspect') return ok(INSPECT_PLAIN)
    if (args[0] === 'info') return ok(this.answers.status)
    throw new Error(`unexpected docker ${args.join(' ')}`)
  }
}

describe('probeBuilder asks the runner’s docker, read-only', () => {
  it('the docker driver on the containerd store: buildx’s Features, and the engine’s store for the log', async () => {
    const cli = new RecordedCli({ buildx: true, debug: true, inspect: INSPECT_CONTAINERD, status: STATUS_CONTAINERD })
    expect(await probeBuilder(cli, {})).toEqual(buildx())
    expect(cli.calls.map(c => c.join(' '))).toEqual(['buildx version', 'buildx --debug inspect', 'info --format {{json .DriverStatus}}'])
  })

  it('an older buildx without --debug: the plain inspect, and the engine decides', async () => {
    const cli = new RecordedCli({ buildx: true, debug: false, inspect: '', status: STATUS_CLASSIC })
    expect(await probeBuilder(cli, {})).toEqual(buildx({ store: 'classic', cacheExport: false, multiPlatform: false }))
  })

  it('no buildx: the classic builder, nothing else asked', async () => {
    const cli = new RecordedCli({ buildx: false, debug: false, inspect: '', status: '' })
    expect(await probeBuilder(cli, {})).toEqual({ kind: 'classic' })
    expect(cli.calls).toEqual([['buildx', 'version']])
  })
})

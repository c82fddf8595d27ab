// What the runner's builder can do, asked before the login so that a build
// it cannot run stops the run with nothing done: buildx or the classic
// builder, buildx's driver, and whether that driver can export a build cache
// or build for several platforms. buildx's `docker` driver can do both only
// on an engine with the containerd image store.
import { runOrThrow } from '../docker-cli.js'
import type { ImageBuild } from '../inputs/inputs.js'
import { InputError } from '../inputs/parse.js'
import type { DockerCli } from '../ports.js'

export type ImageStore = 'containerd' | 'classic'

/** What `docker buildx inspect` says of the selected builder (its first node). */
export interface BuildxInspect {
  driver: string | undefined
  /** buildx's own answers (`Features:`, printed with `--debug` by buildx 0.17 and later), e.g. `Cache export` → false. */
  features: ReadonlyMap<string, boolean>
}

export interface BuildxBuilder {
  kind: 'buildx'
  driver: string | undefined
  /** Asked of the engine only for the docker driver, whose abilities it decides. */
  store: ImageStore | undefined
  cacheExport: boolean
  multiPlatform: boolean
}

export type Builder = { kind: 'classic' } | BuildxBuilder

export function parseBuildxInspect(output: string): BuildxInspect {
  const features = new Map<string, boolean>()
  let inFeatures = false
  for (const line of output.split('\n')) {
    if (/^Features:\s*$/.test(line.trimStart()) && !inFeatures && features.size === 0) {
      inFeatures = true
      continue
    }
    const feature = inFeatures ? /^\s+(.+?):\s+(true|false)\s*$/.exec(line) : null
    if (feature) features.set(feature[1]!, feature[2] === 'true')
    else inFeatures = false
  }
  return { driver: /^Driver:\s*(\S+)/m.exec(output)?.[1], features }
}

const CONTAINERD_SNAPSHOTTER = 'io.containerd.snapshotter.v1'

/**
 * The engine's image store, from `docker info --format '{{json .DriverStatus}}'`
 * (the API's /info `DriverStatus`): the containerd store reports
 * `["driver-type", "io.containerd.snapshotter.v1"]`.
 */
export function imageStoreOf(driverStatusJson: string): ImageStore | undefined {
  let status: unknown
  try {
    status = JSON.parse(driverStatusJson)
  } catch {
    return undefined
  }
  if (!Array.isArray(status)) return status === null ? 'classic' : undefined
  const pairs = status.filter((pair): pair is [string, string] => Array.isArray(pair) && pair.length === 2)
  return pairs.some(([key, value]) => key === 'driver-type' && value === CONTAINERD_SNAPSHOTTER) ? 'containerd' : 'classic'
}

/**
 * buildx's own word where it gives one; else the docker driver can export
 * only on the containerd store (buildx's rule), and every other driver can.
 */
export function builderOf(inspect: BuildxInspect, store: ImageStore | undefined): BuildxBuilder {
  const onDocker = inspect.driver === 'docker'
  const able = (feature: string): boolean => inspect.features.get(feature) ?? (!onDocker || store === 'containerd')
  return { kind: 'buildx', driver: inspect.driver, store, cacheExport: able('Cache export'), multiPlatform: able('Multi-platform build') }
}

/** "docker driver, containerd image store", for the log and the errors. */
export function describeBuilder(builder: BuildxBuilder): string {
  const driver = builder.driver ? `buildx's ${builder.driver} driver` : 'buildx'
  return builder.store && builder.driver === 'docker' ? `${driver} on the ${builder.store} image store` : driver
}

/** buildx's spec `type=registry,ref=…`, or a bare reference, which buildx reads as a registry cache. */
export function cacheType(spec: string): string {
  const type = spec.split(',').find(part => part.trim().startsWith('type='))
  return type ? type.trim().slice('type='.length) : 'registry'
}

const NOTHING_BUILT = 'Nothing was built.'

/** Why this builder cannot build the image as asked, before anything is built; undefined when it can. */
export function refusal(image: Pick<ImageBuild, 'cache' | 'platforms'>, builder: Builder): InputError | undefined {
  if (builder.kind === 'classic') {
    if (image.platforms.length === 0) return undefined
    return new InputError(
      'platforms',
      `the runner's docker has no buildx plugin ('docker buildx version' failed), and the classic builder builds for the runner's platform only: install buildx (docker/setup-buildx-action) or remove platforms. ${NOTHING_BUILT}`
    )
  }
  const classicStore = builder.driver === 'docker' && builder.store !== 'containerd'
  const remedy = classicStore
    ? 'turn on the containerd image store on the runner\'s engine ("features": {"containerd-snapshotter": true} in daemon.json), or use a docker-container builder (docker/setup-buildx-action)'
    : 'use a builder that can (a docker-container builder, docker/setup-buildx-action)'
  // buildx itself lets an inline cache through on any driver: it travels in the image.
  if (image.cache.kind === 'given' && !builder.cacheExport && cacheType(image.cache.value) !== 'inline') {
    return new InputError('cache', `the builder (${describeBuilder(builder)}) cannot export a build cache: ${remedy}, or set cache: false. ${NOTHING_BUILT}`)
  }
  if (image.platforms.length > 1 && !builder.multiPlatform) {
    return new InputError(
      'platforms',
      `the builder (${describeBuilder(builder)}) cannot build for several platforms at once: ${remedy}, or give one platform. ${NOTHING_BUILT}`
    )
  }
  return undefined
}

/** `docker buildx version` exits 0 only where the plugin is installed. */
export async function hasBuildx(cli: DockerCli, env: Record<string, string>): Promise<boolean> {
  const result = await cli.run(['buildx', 'version'], { env, silent: true, timeoutMs: 15_000 }).catch(() => undefined)
  return result?.code === 0
}

/** `--debug` makes buildx 0.17+ print its Features; an older buildx refuses the flag and is asked without it. */
async function inspectBuildx(cli: DockerCli, env: Record<string, string>): Promise<BuildxInspect> {
  for (const args of [
    ['buildx', '--debug', 'inspect'],
    ['buildx', 'inspect']
  ]) {
    const inspected = await cli.run(args, { env, silent: true, timeoutMs: 30_000 }).catch(() => undefined)
    if (inspected?.code === 0) return parseBuildxInspect(inspected.stdout)
  }
  return { driver: undefined, features: new Map() }
}

/** The image store of the engine the runner's docker talks to: the docker driver's engine. */
async function engineImageStore(cli: DockerCli, env: Record<string, string>): Promise<ImageStore | undefined> {
  const info = await runOrThrow(cli, 'docker info', ['info', '--format', '{{json .DriverStatus}}'], { env, silent: true, timeoutMs: 30_000 }).catch(
    () => undefined
  )
  return info ? imageStoreOf(info.stdout.trim()) : undefined
}

/** Asks the runner's docker what its builder can do: read-only calls, nothing built or changed. */
export async function probeBuilder(cli: DockerCli, buildxEnv: Record<string, string>): Promise<Builder> {
  if (!(await hasBuildx(cli, buildxEnv))) return { kind: 'classic' }
  const inspect = await inspectBuildx(cli, buildxEnv)
  const store = inspect.driver === 'docker' ? await engineImageStore(cli, buildxEnv) : undefined
  return builderOf(inspect, store)
}

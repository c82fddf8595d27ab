// BuildKit through `docker buildx build --push`, where the runner's docker
// has the buildx plugin: a build cache, several platforms, and the digest
// from `--metadata-file` (what was pushed, an index for several platforms).
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { runOrThrow } from '../docker-cli.js'
import type { BuildCache } from '../inputs/build-inputs.js'
import type { ImageBuild } from '../inputs/inputs.js'
import type { DockerCli, Host, Reporter } from '../ports.js'

/**
 * Where buildx keeps its builders. The throwaway DOCKER_CONFIG would hide
 * `~/.docker/buildx` (buildx looks in `$DOCKER_CONFIG/buildx`), and with it
 * the builder that docker/setup-buildx-action created.
 */
export function buildxConfigDir(env: Host['env'], home: string): string {
  if (env.BUILDX_CONFIG) return env.BUILDX_CONFIG
  return path.join(env.DOCKER_CONFIG || path.join(home, '.docker'), 'buildx')
}

export function buildxEnvironment(env: Host['env']): Record<string, string> {
  return { BUILDX_CONFIG: buildxConfigDir(env, env.HOME || os.homedir()) }
}

/** `docker buildx version` exits 0 only where the plugin is installed. */
export async function hasBuildx(cli: DockerCli, env: Record<string, string>): Promise<boolean> {
  const result = await cli.run(['buildx', 'version'], { env, silent: true, timeoutMs: 15_000 }).catch(() => undefined)
  return result?.code === 0
}

/** The driver of the selected builder, from `docker buildx inspect`. */
export function driverOf(inspectOutput: string): string | undefined {
  return /^Driver:\s*(\S+)/m.exec(inspectOutput)?.[1]
}

// Attributes only an exporter takes: an importer given them may refuse the spec.
const EXPORT_ONLY = new Set(['mode', 'ignore-error', 'compression', 'compression-level', 'force-compression', 'oci-mediatypes', 'image-manifest'])

export interface CachePlan {
  args: string[]
  /** Said once in the log: why the cache is what it is. */
  note: string | undefined
}

/**
 * `--cache-from`/`--cache-to` for the cache input. The default needs a
 * builder that can export a cache: the `docker` driver (buildx's default
 * builder) cannot, so there the default is no cache rather than a failed build.
 */
export function cacheArgs(cache: BuildCache, repository: string, driver: string | undefined): CachePlan {
  if (cache.kind === 'off') return { args: [], note: undefined }
  if (cache.kind === 'given') {
    const from = cache.value
      .split(',')
      .filter(part => !EXPORT_ONLY.has(part.split('=', 1)[0]!.trim()))
      .join(',')
    return { args: ['--cache-from', from, '--cache-to', cache.value], note: undefined }
  }
  if (driver === 'docker') {
    return {
      args: [],
      note: "No build cache: the builder uses buildx's docker driver, which cannot export one. A docker-container builder (docker/setup-buildx-action) gets the default cache; or set cache."
    }
  }
  if (cache.actionsCache)
    return { args: ['--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max'], note: 'Build cache: the GitHub Actions cache (type=gha)' }
  const ref = `${repository}:buildcache`
  return { args: ['--cache-from', `type=registry,ref=${ref}`, '--cache-to', `type=registry,ref=${ref},mode=max`], note: `Build cache: ${ref} in the registry` }
}

export function buildxArgs(
  image: Pick<ImageBuild, 'repository' | 'tags' | 'dockerfile' | 'buildArgs' | 'context' | 'platforms'>,
  metadataFile: string,
  cache: string[]
): string[] {
  const args = ['buildx', 'build', '--push', '--metadata-file', metadataFile, '--file', image.dockerfile]
  for (const tag of image.tags) args.push('--tag', `${image.repository}:${tag}`)
  // Names only, as for the classic builder: buildx reads a bare name's value from the environment.
  for (const name of image.buildArgs.keys()) args.push('--build-arg', name)
  if (image.platforms.length > 0) args.push('--platform', image.platforms.join(','))
  args.push(...cache, image.context)
  return args
}

const DIGEST = /^sha256:[0-9a-f]{64}$/

/** `containerimage.digest` of the `--metadata-file` JSON: the manifest (or index) that was pushed. */
export function digestFromMetadata(json: string): string | undefined {
  let metadata: Record<string, unknown>
  try {
    metadata = JSON.parse(json) as Record<string, unknown>
  } catch {
    return undefined
  }
  const digest = metadata['containerimage.digest']
  return typeof digest === 'string' && DIGEST.test(digest) ? digest : undefined
}

export interface BuildxResult {
  digest: string
  /** The docker driver also leaves the image in the runner's engine. */
  loaded: boolean
}

/** Build and push every tag in one BuildKit run; the digest is what BuildKit pushed. */
export async function buildxBuildAndPush(
  cli: DockerCli,
  image: ImageBuild,
  buildxEnv: Record<string, string>,
  reporter: Pick<Reporter, 'info'>
): Promise<BuildxResult> {
  const inspected = await cli.run(['buildx', 'inspect'], { env: buildxEnv, silent: true, timeoutMs: 30_000 }).catch(() => undefined)
  const driver = inspected?.code === 0 ? driverOf(inspected.stdout) : undefined
  reporter.info(`Building with BuildKit (docker buildx${driver ? `, ${driver} driver` : ''})`)
  const cache = cacheArgs(image.cache, image.repository, driver)
  if (cache.note) reporter.info(cache.note)
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'sd-buildx-'))
  try {
    const metadataFile = path.join(scratch, 'metadata.json')
    await runOrThrow(cli, 'docker buildx build', buildxArgs(image, metadataFile, cache.args), { env: { ...Object.fromEntries(image.buildArgs), ...buildxEnv } })
    const digest = digestFromMetadata(await readFile(metadataFile, 'utf8').catch(() => ''))
    if (digest === undefined)
      throw new Error(`docker buildx build pushed ${image.repository}:${image.tags[0]} but its metadata file gives no containerimage.digest`)
    return { digest, loaded: driver === 'docker' }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

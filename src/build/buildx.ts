// BuildKit through `docker buildx build --push`, where the runner's docker
// has the buildx plugin: a build cache, several platforms, and the digest
// from `--metadata-file` (what was pushed, an index for several platforms).
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { runOrThrow } from '../docker-cli.js'
import type { BuildCache } from '../inputs/build-inputs.js'
import type { ImageBuild } from '../inputs/inputs.js'
import type { DockerCli, Host, Reporter } from '../ports.js'
import type { BuildxBuilder } from './builder.js'
import { describeBuilder } from './builder.js'

/**
 * Where buildx keeps its builders. The throwaway DOCKER_CONFIG would hide
 * `~/.docker/buildx` (buildx looks in `$DOCKER_CONFIG/buildx`), and with it
 * the builder that docker/setup-buildx-action created.
 */
export function buildxConfigDir(env: Host['env'], home: string): string {
  if (env.BUILDX_CONFIG) return env.BUILDX_CONFIG
  return path.join(env.DOCKER_CONFIG || path.join(home, '.docker'), 'buildx')
}

/**
 * The variables buildx gets. Its config folder is the user's only where
 * builders can be (BUILDX_CONFIG, or an existing `~/.docker/buildx`): buildx
 * writes its state (`.lock`, `activity/`) there, and a runner that has none
 * keeps it in the throwaway config. No default attestations: BuildKit's
 * provenance records the build's time, so the same source would get a new
 * digest at every build and every redeploy would be an update. A runner that
 * sets BUILDX_NO_DEFAULT_ATTESTATIONS (to 0, say) decides for itself.
 */
export function buildxEnvironment(env: Host['env'], exists: (dir: string) => boolean = existsSync): Record<string, string> {
  const dir = buildxConfigDir(env, env.HOME || os.homedir())
  return {
    ...(env.BUILDX_CONFIG || exists(dir) ? { BUILDX_CONFIG: dir } : {}),
    BUILDX_NO_DEFAULT_ATTESTATIONS: env.BUILDX_NO_DEFAULT_ATTESTATIONS ?? '1'
  }
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
 * builder that can export a cache; buildx's docker driver on the classic
 * image store cannot, so there the default is no cache rather than a failed
 * build (a cache given there was refused before the build: see refusal()).
 */
export function cacheArgs(cache: BuildCache, repository: string, builder: BuildxBuilder): CachePlan {
  if (cache.kind === 'off') return { args: [], note: undefined }
  if (cache.kind === 'given') {
    const from = cache.value
      .split(',')
      .filter(part => !EXPORT_ONLY.has(part.split('=', 1)[0]!.trim()))
      .join(',')
    return { args: ['--cache-from', from, '--cache-to', cache.value], note: undefined }
  }
  if (!builder.cacheExport) {
    return {
      args: [],
      note: `No build cache: the builder uses ${describeBuilder(builder)}, which cannot export one. The containerd image store on the runner's engine, or a docker-container builder (docker/setup-buildx-action), gets the default cache.`
    }
  }
  if (cache.actionsCache)
    return { args: ['--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max'], note: 'Build cache: the GitHub Actions cache (type=gha)' }
  const ref = `${repository}:buildcache`
  return { args: ['--cache-from', `type=registry,ref=${ref}`, '--cache-to', `type=registry,ref=${ref},mode=max`], note: `Build cache: ${ref} in the registry` }
}

// buildx fills a gha cache's url and token from these (its addGithubToken);
// childEnvironment keeps them from every other docker child.
const ACTIONS_CACHE_ENV = ['ACTIONS_CACHE_URL', 'ACTIONS_RESULTS_URL', 'ACTIONS_RUNTIME_TOKEN', 'ACTIONS_CACHE_SERVICE_V2']

/** The runner's Actions cache variables, for a build whose cache is `type=gha`; nothing for any other. */
export function actionsCacheEnvironment(cacheArgv: string[], env: Host['env']): Record<string, string> {
  const gha = cacheArgv.some(arg => arg.split(',').some(part => part.trim() === 'type=gha'))
  const passed: Record<string, string> = {}
  if (gha) for (const name of ACTIONS_CACHE_ENV) if (env[name]) passed[name] = env[name]
  return passed
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
  builder: BuildxBuilder,
  env: { buildx: Record<string, string>; runner: Host['env'] },
  reporter: Pick<Reporter, 'info'>
): Promise<BuildxResult> {
  reporter.info(`Building with BuildKit (${describeBuilder(builder)})`)
  const cache = cacheArgs(image.cache, image.repository, builder)
  if (cache.note) reporter.info(cache.note)
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'sd-buildx-'))
  try {
    const metadataFile = path.join(scratch, 'metadata.json')
    const childEnv = { ...Object.fromEntries(image.buildArgs), ...actionsCacheEnvironment(cache.args, env.runner), ...env.buildx }
    await runOrThrow(cli, 'docker buildx build', buildxArgs(image, metadataFile, cache.args), { env: childEnv })
    const digest = digestFromMetadata(await readFile(metadataFile, 'utf8').catch(() => ''))
    if (digest === undefined)
      throw new Error(`docker buildx build pushed ${image.repository}:${image.tags[0]} but its metadata file gives no containerimage.digest`)
    return { digest, loaded: builder.driver === 'docker' }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

// Build with the runner's Docker, push every tag, and return the image
// pinned by digest: the deploy never names a mutable tag.
import { runOrThrow } from '../docker-cli.js'
import type { DockerCli, Host, Reporter } from '../ports.js'
import type { Healthcheck } from '../swarm/model.js'
import type { Builder } from './builder.js'
import { probeBuilder, refusal } from './builder.js'
import { buildxBuildAndPush, buildxEnvironment } from './buildx.js'
import type { ImageBuild } from '../inputs/inputs.js'

export interface PushedImage {
  digest: string
  /** `repo:tag@sha256:…`: what the stack deploys. */
  pinned: string
  /** The image's HEALTHCHECK, which service specs do not show. */
  healthcheck: Healthcheck | undefined
}

export function buildArgs(image: Pick<ImageBuild, 'repository' | 'tags' | 'dockerfile' | 'buildArgs' | 'context'>): string[] {
  const args = ['build', '--file', image.dockerfile]
  for (const tag of image.tags) args.push('--tag', `${image.repository}:${tag}`)
  // Build-arg values are not secret by contract (they end up in the image
  // history); `--build-arg NAME` reads the value from the environment anyway,
  // which keeps them out of the process list.
  for (const name of image.buildArgs.keys()) args.push('--build-arg', name)
  args.push(image.context)
  return args
}

const DIGEST = /sha256:[0-9a-f]{64}/

/** `docker push` ends with `<tag>: digest: sha256:… size: N`. */
export function digestFromPushOutput(output: string): string | undefined {
  const line = output
    .split('\n')
    .reverse()
    .find(l => /digest: sha256:[0-9a-f]{64}/.test(l))
  return line?.match(DIGEST)?.[0]
}

/** From `docker image inspect --format '{{json .RepoDigests}}'`. */
export function digestFromRepoDigests(json: string, repository: string): string | undefined {
  const digests = JSON.parse(json || '[]') as string[] | null
  const mine = (digests ?? []).find(d => d.startsWith(`${repository}@`) || d.startsWith(`${dockerHubShort(repository)}@`))
  return mine?.match(DIGEST)?.[0]
}

// The engine records Docker Hub images under their short names.
function dockerHubShort(repository: string): string {
  return repository.replace(/^(?:index\.)?docker\.io\//, '').replace(/^library\//, '')
}

export interface BuildContext {
  /** The process environment: where the user's buildx builders are, and the Actions cache's variables. */
  env: Host['env']
  reporter: Pick<Reporter, 'info' | 'warn'>
}

/**
 * What the runner's builder can do, held against what the image asks of it
 * (a cache, several platforms): a builder that cannot is an input error
 * (the CLI's exit code 2) before anything is built.
 */
export async function readyBuilder(cli: DockerCli, image: Pick<ImageBuild, 'cache' | 'platforms'>, env: Host['env']): Promise<Builder> {
  const builder = await probeBuilder(cli, buildxEnvironment(env))
  const refused = refusal(image, builder)
  if (refused) throw refused
  return builder
}

/**
 * BuildKit (`docker buildx build --push`) where the runner's docker has
 * buildx; else the classic builder, which builds for one platform and has
 * no BuildKit cache. `builder` is readyBuilder's.
 */
export async function buildAndPush(cli: DockerCli, image: ImageBuild, builder: Builder, context: BuildContext): Promise<PushedImage> {
  const { reporter } = context
  if (builder.kind === 'buildx') {
    const env = { buildx: buildxEnvironment(context.env), runner: context.env }
    const { digest, loaded } = await buildxBuildAndPush(cli, image, builder, env, reporter)
    return { digest, pinned: `${image.repository}:${image.tags[0]!}@${digest}`, healthcheck: loaded ? await localHealthcheck(cli, image) : undefined }
  }
  if (image.cache.kind === 'given')
    reporter.warn("cache: the runner's docker has no buildx plugin, so the classic builder runs and the cache input is not used")
  reporter.info('No docker buildx on the runner: building with the classic builder')
  const env = Object.fromEntries(image.buildArgs)
  await runOrThrow(cli, 'docker build', buildArgs(image), { env })
  let digest: string | undefined
  for (const tag of image.tags) {
    const pushed = await runOrThrow(cli, `docker push ${image.repository}:${tag}`, ['push', `${image.repository}:${tag}`])
    digest ??= digestFromPushOutput(pushed.stdout)
  }
  const first = image.tags[0]!
  const inspected = await runOrThrow(
    cli,
    'docker image inspect',
    ['image', 'inspect', '--format', '{{json .RepoDigests}}\t{{json .Config.Healthcheck}}', `${image.repository}:${first}`],
    { silent: true }
  )
  const [repoDigests = '[]', healthcheck = 'null'] = inspected.stdout.trim().split('\t')
  digest ??= digestFromRepoDigests(repoDigests, image.repository)
  if (digest === undefined) throw new Error(`pushed ${image.repository}:${first} but the registry reported no digest`)
  return {
    digest,
    pinned: `${image.repository}:${first}@${digest}`,
    healthcheck: (JSON.parse(healthcheck) as Healthcheck | null) ?? undefined
  }
}

/** The HEALTHCHECK of the image the docker driver left in the runner's engine. */
async function localHealthcheck(cli: DockerCli, image: ImageBuild): Promise<Healthcheck | undefined> {
  const inspected = await cli
    .run(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', `${image.repository}:${image.tags[0]!}`], { silent: true, timeoutMs: 15_000 })
    .catch(() => undefined)
  if (inspected?.code !== 0) return undefined
  try {
    return (JSON.parse(inspected.stdout) as Healthcheck | null) ?? undefined
  } catch {
    return undefined
  }
}

// `build: false`: deploy a tag that is already in the registry, pinned to the
// digest the registry gives for it now. No build, no push, and never the
// mutable tag alone (docker/cli#787): without a digest nothing is deployed.
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import type { PushedImage } from '../build/image.js'
import type { ImageBuild, RegistryAuth } from '../inputs/inputs.js'
import type { DockerCli, Reporter } from '../ports.js'
import { splitRepository } from '../inputs/parse.js'
import { dockerConfigSource } from './credentials/docker-config.js'
import { loginFrom } from './credentials/sources.js'
import { staticSource } from './credentials/static.js'
import { RegistryUnreachable, resolveTag, TagNotFound } from './manifest.js'

// A missing tag must fail within 5 s; this bounds a registry that does not answer.
const RESOLVE_TIMEOUT_MS = 20_000

export interface ResolveOptions {
  reporter: Pick<Reporter, 'info' | 'warn'>
  timeoutMs?: number
  fetch?: typeof fetch | undefined
}

/**
 * The first tag of `image`, pinned by the digest its registry reports,
 * read with the run's login when it is for this registry, else a login
 * already in the Docker config (an earlier `docker/login-action` step).
 */
export async function resolveExisting(
  cli: DockerCli,
  configDir: string,
  image: ImageBuild,
  auth: RegistryAuth | undefined,
  options: ResolveOptions
): Promise<PushedImage> {
  const { reporter } = options
  const tag = image.tags[0]!
  if (image.tags.length > 1)
    reporter.warn(`build is false: ${image.repository}:${tag} is deployed; the other tags (${image.tags.slice(1).join(', ')}) are neither pushed nor moved`)
  const { registry, repository } = splitRepository(image.repository)
  const credentials = await loginFrom([staticSource(auth), dockerConfigSource(configDir)], registry)
  reporter.info(`Asking ${registry} for the digest of ${image.repository}:${tag}${credentials ? ` as ${credentials.username}` : ' anonymously'}`)
  let resolved: { digest: string; healthcheck: PushedImage['healthcheck'] }
  try {
    resolved = await resolveTag({
      registry,
      repository,
      tag,
      credentials,
      allowHttp: once(() => mayUseHttp(cli, registry, reporter)),
      deadline: Date.now() + (options.timeoutMs ?? RESOLVE_TIMEOUT_MS),
      fetch: options.fetch
    })
  } catch (error) {
    const message = (error as Error).message
    if (error instanceof TagNotFound) throw new Error(`image: ${message}. With build: false the tag must already be in the registry. Nothing was deployed.`)
    const cannot = `image: cannot resolve ${image.repository}:${tag} to a digest: ${message}. Nothing was deployed (a tag alone is never deployed).`
    throw error instanceof RegistryUnreachable ? new RegistryUnreachable(cannot) : new Error(cannot)
  }
  const { digest, healthcheck } = resolved
  reporter.info(`${image.repository}:${tag} is ${digest}`)
  return { digest, pinned: `${image.repository}:${tag}@${digest}`, healthcheck }
}

/** What `docker info` says of the registries the daemon reaches over plain http. */
export interface DaemonRegistryConfig {
  IndexConfigs?: Record<string, { Secure?: boolean }>
  InsecureRegistryCIDRs?: string[] | null
}

/**
 * The Docker daemon's rule: a registry listed as insecure, or whose address
 * is in an insecure range (127.0.0.0/8 by default), may use plain http.
 */
export function insecureForDaemon(config: DaemonRegistryConfig | undefined, registry: string, addresses: string[]): boolean {
  const listed = config?.IndexConfigs?.[registry]?.Secure
  if (listed !== undefined) return !listed
  const ranges = config?.InsecureRegistryCIDRs ?? ['127.0.0.0/8']
  return addresses.some(address => address === '::1' || ranges.some(range => inIpv4Range(address, range)))
}

/** `host:port`, `[v6]:port` → host. */
export function registryHost(registry: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(registry)
  if (bracketed) return bracketed[1]!
  return registry.replace(/:\d+$/, '')
}

function inIpv4Range(address: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/')
  const bits = Number(bitsText ?? 32)
  const a = ipv4(address)
  const b = ipv4(base ?? '')
  if (a === undefined || b === undefined || !(bits >= 0 && bits <= 32)) return false
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
  return (a & mask) >>> 0 === (b & mask) >>> 0
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.')
  if (parts.length !== 4 || parts.some(p => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined
  return parts.reduce((n, p) => n * 256 + Number(p), 0)
}

/** Asked only once https has failed to connect. */
async function mayUseHttp(cli: DockerCli, registry: string, reporter: Pick<Reporter, 'info'>): Promise<boolean> {
  const host = registryHost(registry)
  const info = await cli.run(['info', '--format', '{{json .RegistryConfig}}'], { silent: true, timeoutMs: 5_000 }).catch(() => undefined)
  let config: DaemonRegistryConfig | undefined
  if (info?.code === 0) {
    try {
      config = JSON.parse(info.stdout) as DaemonRegistryConfig
    } catch {
      config = undefined
    }
  }
  // A name the daemon does not list is judged by its addresses, as the daemon does; with no daemon to ask, loopback only.
  const listed = config?.IndexConfigs?.[registry] !== undefined
  const addresses = host === 'localhost' ? ['127.0.0.1'] : isIP(host) ? [host] : config && !listed ? await resolveHost(host) : []
  const allowed = insecureForDaemon(config, registry, addresses)
  if (allowed) reporter.info(`https to ${registry} failed; the runner's Docker treats it as an insecure registry, so plain http is tried`)
  return allowed
}

async function resolveHost(host: string): Promise<string[]> {
  const timeout = new Promise<string[]>(resolve => setTimeout(() => resolve([]), 2_000).unref())
  const found = lookup(host, { all: true }).then(
    list => list.map(entry => entry.address),
    () => []
  )
  return Promise.race([found, timeout])
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined
  return () => (promise ??= fn())
}

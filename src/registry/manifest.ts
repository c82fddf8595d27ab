// The digest a tag points to, asked of the registry itself (Registry HTTP
// API v2): `HEAD /v2/<repository>/manifests/<tag>` and its
// `Docker-Content-Digest`, behind the registry's own auth challenge (Basic
// for htpasswd registries and ECR, a Bearer token for Docker Hub, ghcr.io and
// most others). No library fits: the maintained clients fetch whole
// manifests with their own Accept lists, add an HTTP stack, or need buildx.
//
// Plain http only when https cannot even connect and the caller says the
// registry may use it (the runner's Docker treats it as insecure): the same
// rule the Docker daemon follows, so credentials never go over plain http to
// a registry the runner's Docker would only reach over TLS.
import { createHash } from 'node:crypto'
import type { Credentials } from '../ports.js'
import type { Healthcheck } from '../swarm/model.js'

/** Every manifest kind a tag can point to: multi-platform indexes first, as the docker CLI asks. */
export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
]

const DIGEST = /^sha256:[0-9a-f]{64}$/

export interface ManifestQuery {
  /** As `splitRepository` gives it: `docker.io`, `ghcr.io`, `10.77.0.1:5000`. */
  registry: string
  /** As the API names it: `library/nginx`. */
  repository: string
  tag: string
  credentials: Credentials | undefined
  /** Asked only when https cannot connect: may this registry be reached over plain http? */
  allowHttp: () => Promise<boolean>
  /** Every request ends by then (ms since the epoch). */
  deadline: number
  fetch?: typeof fetch
}

/** The tag does not exist in the repository (or the repository does not). */
export class TagNotFound extends Error {}

/** The registry could not be reached, or did not answer in time. */
export class RegistryUnreachable extends Error {}

/** Docker Hub's API is not on `docker.io`. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry
}

export interface Challenge {
  scheme: 'basic' | 'bearer'
  params: Record<string, string>
}

/** `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  const match = /^\s*(Basic|Bearer)\b\s*(.*)$/i.exec(header ?? '')
  if (!match) return undefined
  const params: Record<string, string> = {}
  for (const [, key, quoted, bare] of match[2]!.matchAll(/([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g)) {
    params[key!.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : bare!
  }
  return { scheme: match[1]!.toLowerCase() as Challenge['scheme'], params }
}

/** Where to ask for a pull token, or why not to. */
export function tokenUrl(challenge: Challenge, repository: string, registryUrl: URL): URL {
  const realm = challenge.params.realm
  if (!realm) throw new Error('its Bearer challenge names no realm to get a token from')
  let url: URL
  try {
    url = new URL(realm)
  } catch {
    throw new Error(`its token realm '${realm}' is not a URL`)
  }
  // Credentials go to the realm: over TLS, or to the registry's own plain-http host.
  const sameInsecureHost = url.protocol === 'http:' && registryUrl.protocol === 'http:' && url.host === registryUrl.host
  if (url.protocol !== 'https:' && !sameInsecureHost) throw new Error(`its token realm ${url.origin} is not https`)
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service)
  url.searchParams.set('scope', challenge.params.scope ?? `repository:${repository}:pull`)
  return url
}

export interface ResolvedTag {
  digest: string
  /** The image's HEALTHCHECK, which service specs do not show; undefined when unknown. */
  healthcheck: Healthcheck | undefined
}

/** The digest, and, for the warnings only and at best effort, the HEALTHCHECK in the image's config. */
export async function resolveTag(query: ManifestQuery): Promise<ResolvedTag> {
  const client = new RegistryClient(query)
  const digest = await digestOf(client, query)
  const healthcheck = await client.healthcheck(digest).catch(() => undefined)
  return { digest, healthcheck }
}

/** The digest the registry gives for the tag; never a guess, never the tag itself. */
export async function resolveDigest(query: ManifestQuery): Promise<string> {
  return digestOf(new RegistryClient(query), query)
}

async function digestOf(client: RegistryClient, query: ManifestQuery): Promise<string> {
  const head = await client.manifest('HEAD')
  const header = head.headers.get('docker-content-digest')?.trim()
  if (header !== undefined && DIGEST.test(header)) return header
  // Some registries leave the header off a HEAD: the digest is the manifest's bytes.
  const got = await client.manifest('GET')
  const body = Buffer.from(await got.arrayBuffer())
  const digest = got.headers.get('docker-content-digest')?.trim()
  const computed = `sha256:${createHash('sha256').update(body).digest('hex')}`
  if (digest !== undefined && DIGEST.test(digest) && digest !== computed) {
    throw new Error(`registry ${query.registry} sent a manifest for ${query.repository}:${query.tag} whose bytes do not match its digest ${digest}`)
  }
  return computed
}

interface ManifestJson {
  manifests?: Array<{ digest?: unknown; platform?: { os?: string } }>
  config?: { digest?: unknown }
}

// Reading the HEALTHCHECK may add this much to a lookup, never more.
const HEALTHCHECK_MS = 5_000

class RegistryClient {
  private base: URL | undefined
  private authorization: string | undefined
  private readonly fetch: typeof fetch
  private deadline: number

  constructor(private readonly query: ManifestQuery) {
    this.fetch = query.fetch ?? globalThis.fetch
    this.deadline = query.deadline
  }

  /** The config of the image (of an index: its first image that is not an attestation). */
  async healthcheck(digest: string): Promise<Healthcheck | undefined> {
    this.deadline = Math.min(this.deadline, Date.now() + HEALTHCHECK_MS)
    const repository = this.query.repository
    let manifest = await this.json<ManifestJson>(`/v2/${repository}/manifests/${digest}`)
    if (Array.isArray(manifest.manifests)) {
      const image = manifest.manifests.find(m => m.platform?.os !== undefined && m.platform.os !== 'unknown')
      if (typeof image?.digest !== 'string' || !DIGEST.test(image.digest)) return undefined
      manifest = await this.json<ManifestJson>(`/v2/${repository}/manifests/${image.digest}`)
    }
    const config = manifest.config?.digest
    if (typeof config !== 'string' || !DIGEST.test(config)) return undefined
    const image = await this.json<{ config?: { Healthcheck?: Healthcheck | null } }>(`/v2/${repository}/blobs/${config}`)
    return image.config?.Healthcheck ?? undefined
  }

  private async json<T>(path: string): Promise<T> {
    const response = await this.send('GET', path)
    if (!response.ok) {
      await response.body?.cancel()
      throw new Error(`HTTP ${response.status} for ${path}`)
    }
    return (await response.json()) as T
  }

  private get where(): string {
    return `${this.query.repository}:${this.query.tag} on registry ${this.query.registry}`
  }

  /** The manifest request, authorised as the registry asks; a 2xx response or an error saying why not. */
  async manifest(method: 'HEAD' | 'GET'): Promise<Response> {
    // A tag is [\w.-] only (parseTags), so it needs no escaping.
    const path = `/v2/${this.query.repository}/manifests/${this.query.tag}`
    let response = await this.send(method, path)
    if (response.status === 401 && this.authorization === undefined) {
      this.authorization = await this.authorize(response)
      response = await this.send(method, path)
    }
    if (response.ok) return response
    // A HEAD answer has no body: ask again for the registry's own words (TOOMANYREQUESTS, DENIED, …).
    if (method === 'HEAD' && response.status !== 404) response = await this.send('GET', path)
    const detail = await errorDetail(response)
    if (response.status === 404) {
      throw new TagNotFound(`tag ${this.query.tag} of ${this.query.repository} was not found on registry ${this.query.registry}${detail}`)
    }
    if (response.status === 401 || response.status === 403) {
      // Docker Hub answers a repository that does not exist like one it may not show.
      const who = this.query.credentials ? `user ${this.query.credentials.username}` : 'an anonymous client (no credentials for it)'
      throw new Error(
        `registry ${this.query.registry} refused ${who} access to ${this.query.repository}:${this.query.tag} (HTTP ${response.status}${detail}): the repository does not exist or these credentials cannot read it`
      )
    }
    throw new Error(`registry ${this.query.registry} answered HTTP ${response.status} for ${this.query.repository}:${this.query.tag}${detail}`)
  }

  private async authorize(challenged: Response): Promise<string> {
    await challenged.body?.cancel()
    const challenge = parseChallenge(challenged.headers.get('www-authenticate'))
    const credentials = this.query.credentials
    if (challenge?.scheme === 'basic') {
      if (!credentials)
        throw new Error(
          `registry ${this.query.registry} needs credentials to read ${this.where}: give registry-username and registry-password, or log in in an earlier step`
        )
      return `Basic ${basic(credentials)}`
    }
    if (challenge?.scheme !== 'bearer')
      throw new Error(
        `registry ${this.query.registry} asked for an authentication this action does not speak: ${challenged.headers.get('www-authenticate') ?? '(no WWW-Authenticate header)'}`
      )
    let url: URL
    try {
      url = tokenUrl(challenge, this.query.repository, this.base!)
    } catch (error) {
      throw new Error(`registry ${this.query.registry}: ${(error as Error).message}`)
    }
    const response = await this.timed(url, { headers: credentials ? { authorization: `Basic ${basic(credentials)}` } : {} })
    if (!response.ok) {
      const detail = await errorDetail(response)
      throw new Error(
        `the token service ${url.origin} of registry ${this.query.registry} refused a pull token for ${this.query.repository} (HTTP ${response.status}${detail})${credentials ? ': check the credentials' : ''}`
      )
    }
    const body = (await response.json().catch(() => ({}))) as { token?: string; access_token?: string }
    const token = body.token ?? body.access_token
    if (!token) throw new Error(`the token service ${url.origin} of registry ${this.query.registry} sent no token`)
    return `Bearer ${token}`
  }

  private async send(method: 'HEAD' | 'GET', path: string): Promise<Response> {
    const headers: Record<string, string> = { accept: MANIFEST_TYPES.join(', ') }
    if (this.authorization) headers.authorization = this.authorization
    if (this.base) return this.timed(new URL(path, this.base), { method, headers })
    const host = apiHost(this.query.registry)
    try {
      const response = await this.timed(new URL(path, `https://${host}`), { method, headers })
      this.base = new URL(`https://${host}`)
      return response
    } catch (error) {
      if (error instanceof RegistryTimeout) throw error
      if (!(await this.query.allowHttp())) {
        throw new RegistryUnreachable(`${(error as Error).message} (plain http is used only for a registry the runner's Docker treats as insecure)`)
      }
    }
    const response = await this.timed(new URL(path, `http://${host}`), { method, headers })
    this.base = new URL(`http://${host}`)
    return response
  }

  private async timed(url: URL, init: RequestInit): Promise<Response> {
    const left = this.deadline - Date.now()
    if (left <= 0) throw new RegistryTimeout(`registry ${this.query.registry} did not answer in time for ${this.where}`)
    try {
      return await this.fetch(url, { ...init, redirect: 'follow', signal: AbortSignal.timeout(left) })
    } catch (error) {
      const name = (error as Error).name
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new RegistryTimeout(`registry ${this.query.registry} did not answer ${url.origin} within ${Math.ceil(left / 1000)} s for ${this.where}`)
      }
      throw new RegistryUnreachable(`cannot reach registry ${this.query.registry} at ${url.origin}: ${networkCause(error)}`)
    }
  }
}

class RegistryTimeout extends RegistryUnreachable {}

function basic(credentials: Credentials): string {
  return Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')
}

/** The registry's own error code and message (`MANIFEST_UNKNOWN: manifest unknown`), if it sent one. */
async function errorDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => '')
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors ?? []
    const first = errors[0]
    if (first?.code) return `: ${first.code}${first.message ? ` ${first.message}` : ''}`
  } catch {
    // not JSON: nothing worth quoting
  }
  return ''
}

function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}

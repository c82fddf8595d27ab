// A stand-in for a registry on loopback: plain http, as the lab's is, with
// either htpasswd-style Basic auth or a Bearer token service (Docker Hub,
// ghcr.io), serving manifests whose digests the tests know.
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Seen {
  method: string
  path: string
  authorization: string | undefined
  accept: string | undefined
}

export interface StandIn {
  /** `127.0.0.1:<port>` */
  registry: string
  seen: Seen[]
  digestOf(repository: string, tag: string): string
  close(): Promise<void>
}

export interface StandInOptions {
  auth: 'basic' | 'bearer' | 'none'
  username?: string
  password?: string
  /** Anonymous tokens are given (public images on Docker Hub). */
  anonymousTokens?: boolean
  /** repository → tag → manifest body */
  manifests: Record<string, Record<string, { mediaType: string; body: string }>>
  /** Leave Docker-Content-Digest off HEAD answers, as some registries do. */
  noDigestOnHead?: boolean
  /** Answer nothing at all, ever. */
  silent?: boolean
  /** Answer every manifest request with this status. */
  status?: number
  /** digest → blob (image configs) */
  blobs?: Record<string, string>
}

export async function startStandIn(options: StandInOptions): Promise<StandIn> {
  const seen: Seen[] = []
  const token = `tok-${Math.random().toString(36).slice(2)}`
  const basic = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`
  let origin = ''

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', origin)
    seen.push({ method: req.method ?? '', path: url.pathname + url.search, authorization: req.headers.authorization, accept: req.headers.accept })
    if (options.silent) return
    if (url.pathname === '/token') {
      const scope = url.searchParams.get('scope') ?? ''
      const allowed = req.headers.authorization === basic || (options.anonymousTokens && req.headers.authorization === undefined)
      if (!allowed || url.searchParams.get('service') !== 'stand-in' || !/^repository:[a-z0-9/._-]+:pull$/.test(scope)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${token}:${scope}` }))
      return
    }
    const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname)
    if (!match) {
      res.writeHead(404).end()
      return
    }
    const [, repository, kind, tag] = match as unknown as [string, string, string, string]
    const authorized =
      options.auth === 'none' ||
      (options.auth === 'basic' && req.headers.authorization === basic) ||
      (options.auth === 'bearer' && req.headers.authorization === `Bearer ${token}:repository:${repository}:pull`)
    if (!authorized) {
      const challenge =
        options.auth === 'basic' ? 'Basic realm="stand-in"' : `Bearer realm="${origin}/token",service="stand-in",scope="repository:${repository}:pull"`
      res
        .writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }))
      return
    }
    if (options.status) {
      res.writeHead(options.status, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'try later' }] }))
      return
    }
    if (kind === 'blobs') {
      const blob = options.blobs?.[tag]
      if (blob === undefined)
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }))
      else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(blob)
      return
    }
    const stored = options.manifests[repository] ?? {}
    const manifest = stored[tag] ?? Object.values(stored).find(m => sha256(m.body) === tag)
    if (!manifest) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: tag } }] }))
      return
    }
    const digest = sha256(manifest.body)
    const headers: Record<string, string> = { 'content-type': manifest.mediaType, 'content-length': String(Buffer.byteLength(manifest.body)) }
    if (!(options.noDigestOnHead && req.method === 'HEAD')) headers['docker-content-digest'] = digest
    res.writeHead(200, headers)
    res.end(req.method === 'HEAD' ? undefined : manifest.body)
  }

  const server: Server = createServer(handle)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  origin = `http://127.0.0.1:${port}`
  return {
    registry: `127.0.0.1:${port}`,
    seen,
    digestOf: (repository, tag) => sha256(options.manifests[repository]![tag]!.body),
    close: () =>
      new Promise(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`
}

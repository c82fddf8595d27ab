// The smoke check's one HTTP call, the seam the engine reaches URLs through
// (Adapters.smokeGet): a GET with a deadline, redirects not followed, and
// only the start of the body read.
import type { SmokeGet } from '../ports.js'

/** Enough of the body for an excerpt; the rest is not read. */
export const BODY_BYTES = 4096

/**
 * Node's fetch, `redirect: 'manual'`: a 3xx is judged as it is, so the check
 * is about this service's own answer, not wherever it sends a client (a login
 * page elsewhere), and no request, with its credentials, goes to another host.
 */
export const httpGet: SmokeGet = async request => {
  const signal = AbortSignal.timeout(request.timeoutMs)
  try {
    const response = await fetch(request.url, { method: 'GET', headers: request.headers, redirect: 'manual', signal })
    return { status: response.status, body: await bodyStart(response, BODY_BYTES) }
  } catch (error) {
    return { error: fetchError(error, request.timeoutMs) }
  }
}

async function bodyStart(response: Response, limit: number): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < limit) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.length
    }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks).subarray(0, limit))
}

const CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (try again)',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'the connection closed before an answer',
  UND_ERR_HEADERS_TIMEOUT: 'no headers in time'
}

/** One line: what went wrong, without the stack or the URL. */
export function fetchError(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 100) / 10}s`
  const code = e.cause?.code
  if (code && CODES[code]) return CODES[code]
  if (code && /CERT|SSL|TLS/.test(code)) return `TLS: ${e.cause?.message ?? code}`
  return (e.cause?.message ?? e.message ?? String(error)).split('\n')[0]!
}

// The smoke check's decisions, as pure functions of data: the request for a
// URL, whether an answer passes, when to try again, what the log and the
// summary say, and the verdict once it is done.
import type { Verdict } from '../converge/verdict.js'
import type { SmokeCheck, SmokeUrl, StatusRange } from '../inputs/smoke-inputs.js'
import { describeExpect } from '../inputs/smoke-inputs.js'
import type { SmokeAnswer, SmokeRequest } from '../ports.js'

/** One URL's state: passed once it answered an expected status; else its last answer. */
export interface UrlResult {
  /** The URL as shown (userinfo and query values as ***). */
  url: string
  passed: boolean
  attempts: number
  status?: number
  /** Why the last attempt got no answer. */
  error?: string
  /** The start of the last body: redacted, on one line, at most EXCERPT_CHARS. */
  excerpt?: string
}

export interface SmokeResult {
  passed: boolean
  /** The codes that pass, as written in describeExpect. */
  expect: string
  /** From the first request to the verdict. */
  ms: number
  urls: UrlResult[]
}

/** The longest body excerpt in the log and the summary. */
export const EXCERPT_CHARS = 200
/** The longest wait for one answer; less near the deadline, but never under MIN_REQUEST_MS. */
export const REQUEST_MS = 10_000
export const MIN_REQUEST_MS = 1_000

export function statusPasses(status: number, expect: StatusRange[]): boolean {
  return expect.some(r => status >= r.from && status <= r.to)
}

/** The GET for a URL: userinfo moves to a Basic Authorization header (fetch refuses a URL that holds it), the fragment is dropped. */
export function smokeRequest(url: SmokeUrl, timeoutMs: number): SmokeRequest {
  const parsed = new URL(url.href)
  const headers: Record<string, string> = { 'user-agent': 'swarm-deploy smoke check', accept: '*/*', 'cache-control': 'no-cache' }
  if (parsed.username !== '' || parsed.password !== '') {
    const user = decoded(parsed.username)
    const password = decoded(parsed.password)
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`
  }
  parsed.username = ''
  parsed.password = ''
  parsed.hash = ''
  return { url: parsed.href, headers, timeoutMs }
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * Waits between rounds: 1, 2, 4, then every 5 s, so a service that needs a
 * moment gets checked soon and a broken one is not hammered.
 */
export function retryDelayMs(round: number): number {
  return Math.min(5_000, 1_000 * 2 ** round)
}

/** How long to sleep before the next round, or undefined when the deadline has passed: the last round was the last. */
export function nextWaitMs(round: number, now: number, deadline: number): number | undefined {
  if (now >= deadline) return undefined
  return Math.min(retryDelayMs(round), deadline - now)
}

/** The bound on one request: REQUEST_MS, less what is left before the deadline, never under MIN_REQUEST_MS. */
export function requestTimeoutMs(now: number, deadline: number): number {
  return Math.max(MIN_REQUEST_MS, Math.min(REQUEST_MS, deadline - now))
}

/** The start of a body for a person: redacted first (so no secret is cut in two), then on one line, without control characters, cut. */
export function bodyExcerpt(body: string, redact: (text: string) => string): string {
  const flat = redact(body)
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ')
    .trim()
  const chars = [...flat]
  return chars.length <= EXCERPT_CHARS ? flat : `${chars.slice(0, EXCERPT_CHARS).join('')}…`
}

/** A URL's state after one more answer. Text from outside (body, error) is redacted. */
export function afterAnswer(previous: UrlResult, answer: SmokeAnswer, expect: StatusRange[], redact: (text: string) => string): UrlResult {
  const attempts = previous.attempts + 1
  if ('error' in answer) return { url: previous.url, passed: false, attempts, error: redact(answer.error) }
  return { url: previous.url, passed: statusPasses(answer.status, expect), attempts, status: answer.status, excerpt: bodyExcerpt(answer.body, redact) }
}

/** What one URL got last, in a few words: `404`, `connection refused`. */
export function lastAnswer(result: UrlResult): string {
  if (result.error !== undefined) return result.error
  return result.status === undefined ? 'not tried' : String(result.status)
}

/** The progress line after a round; its first part (before `;`-separated counts) says what changed. */
export function progressLine(results: UrlResult[], leftMs: number): string {
  const failing = results.filter(r => !r.passed)
  const passed = results.length - failing.length
  return `Smoke check: ${passed}/${results.length} pass; ${failing.map(r => `${r.url} ${lastAnswer(r)}`).join(', ')} (${Math.ceil(leftMs / 1000)}s left)`
}

/** Whether the round's state differs from the one last logged (attempts aside). */
export function stateKey(results: UrlResult[]): string {
  return results.map(r => `${r.url} ${r.passed} ${lastAnswer(r)}`).join('\n')
}

/** Log a round when what it found changed, or every 10 s while it did not: progress, not a flood. */
export function shouldReport(lastKey: string | undefined, key: string, sinceLastMs: number): boolean {
  return key !== lastKey || sinceLastMs >= 10_000
}

/** One URL's failure, for the log, the error and the summary. */
export function describeFailure(result: UrlResult, expect: string): string {
  const tries = `${result.attempts} attempt${result.attempts === 1 ? '' : 's'}`
  if (result.error !== undefined) return `GET ${result.url} failed: ${result.error} (${tries})`
  return `GET ${result.url} answered ${result.status} (expected ${expect}; ${tries})`
}

/** What a smoke check does, in one line: `GET <urls> until it answers 200-399, for up to 60s`. */
export function checkPlan(check: SmokeCheck): string {
  return `GET ${check.urls.map(u => u.shown).join(', ')} until ${check.urls.length === 1 ? 'it answers' : 'each answers'} ${describeExpect(check.expect)}, for up to ${Math.round(check.timeoutMs / 1000)}s`
}

export function newResult(url: SmokeUrl): UrlResult {
  return { url: url.shown, passed: false, attempts: 0 }
}

export function smokeResult(results: UrlResult[], expect: StatusRange[], ms: number): SmokeResult {
  return { passed: results.every(r => r.passed), expect: describeExpect(expect), ms, urls: results }
}

/**
 * A converged verdict and a failed smoke check: `failed`, with the first
 * failing URL's answer in the sentence. The services keep their own states
 * (they did converge); anything else is returned as it is.
 */
export function smokeVerdict(verdict: Verdict, smoke: SmokeResult, stack: string): Verdict {
  if (verdict.status !== 'converged' || smoke.passed) return verdict
  const failing = smoke.urls.filter(r => !r.passed)
  const more = failing.length > 1 ? ` and ${failing.length - 1} more URL${failing.length > 2 ? 's' : ''}` : ''
  return {
    ...verdict,
    status: 'failed',
    summary: `Stack ${stack} converged, but the smoke check failed after ${Math.round(smoke.ms / 1000)}s: ${describeFailure(failing[0]!, smoke.expect)}${more}`
  }
}

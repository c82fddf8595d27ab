// The smoke check's inputs: the URLs to GET after the rollout converges, how
// long to keep trying, and which status codes pass. Pure. A URL may carry
// credentials (userinfo) or tokens (query values): errors and the log show
// it only as `shownUrl` gives it, with those parts as ***.
import { InputError, parseDuration } from './parse.js'
import { defaultOf } from './table.js'

/** One URL of the smoke check. */
export interface SmokeUrl {
  /** The URL as it is requested (fragment dropped), userinfo included: never printed. */
  href: string
  /** The URL as every log line, error and summary shows it: userinfo and query values as ***. */
  shown: string
}

/** Status codes from..to, both included. */
export interface StatusRange {
  from: number
  to: number
}

export interface SmokeCheck {
  urls: SmokeUrl[]
  /** From the first request to the last: how long the URLs have to pass. */
  timeoutMs: number
  expect: StatusRange[]
}

const EXAMPLE = 'like https://shop.example.com/health'

/**
 * `smoke-url`, `smoke-timeout`, `smoke-expect`; undefined when smoke-url is
 * empty. The other two are checked either way, and refused when set to
 * anything but their defaults without a URL to check.
 */
export function readSmokeCheck(read: (name: string) => string): SmokeCheck | undefined {
  const timeoutDefault = defaultOf('smoke-timeout')
  const expectDefault = defaultOf('smoke-expect')
  const timeoutRaw = read('smoke-timeout').trim() || timeoutDefault
  const expectRaw = read('smoke-expect').trim() || expectDefault
  const timeoutMs = parseDuration('smoke-timeout', timeoutRaw)
  const expect = parseExpect('smoke-expect', expectRaw)
  const urls = parseSmokeUrls('smoke-url', read('smoke-url'))
  if (urls.length === 0) {
    if (timeoutRaw !== timeoutDefault) throw new InputError('smoke-timeout', 'is set but smoke-url is empty: give the URL(s) to check')
    if (expectRaw !== expectDefault) throw new InputError('smoke-expect', 'is set but smoke-url is empty: give the URL(s) to check')
    return undefined
  }
  return { urls, timeoutMs, expect }
}

/**
 * URLs, newline- or comma-separated. A comma separates two URLs only where
 * a scheme (`https://`) follows it, so a comma inside a URL (`?fields=a,b`)
 * stays. `#` starts a comment line. Each must be an absolute http or https
 * URL with a host; duplicates count once.
 */
export function parseSmokeUrls(input: string, raw: string): SmokeUrl[] {
  const urls: SmokeUrl[] = []
  splitItems(raw).forEach((item, index) => {
    const url = parseOne(input, item, index + 1)
    if (!urls.some(u => u.href === url.href)) urls.push(url)
  })
  return urls
}

function splitItems(raw: string): string[] {
  return raw
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'))
    .flatMap(line => line.split(/,(?=\s*[a-zA-Z][a-zA-Z0-9+.-]*:\/\/)/))
    .map(item => item.trim())
    .filter(item => item !== '')
}

function parseOne(input: string, item: string, number: number): SmokeUrl {
  // Unparsed text is never quoted back: it may hold a password or a token.
  const which = `item ${number}`
  if (/\s/.test(item)) throw new InputError(input, `${which} has white space in it: separate URLs with commas or newlines, and encode spaces as %20`)
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(item)?.[1]?.toLowerCase()
  let url: URL
  try {
    url = new URL(item)
  } catch {
    throw new InputError(input, `${which} is not an absolute http or https URL (${EXAMPLE})`)
  }
  if (scheme !== 'http' && scheme !== 'https') {
    // Only the scheme: where another scheme keeps a password is not known here, so none of the URL is shown.
    throw new InputError(input, `${which} is a ${scheme ?? 'relative'} URL: the smoke check speaks http and https only (${EXAMPLE})`)
  }
  if (!/^https?:\/\/[^/?#]/i.test(item) || url.hostname === '') throw new InputError(input, `${which} has no host (${EXAMPLE})`)
  url.hash = ''
  return { href: url.href, shown: shownUrl(url) }
}

/** The URL with its userinfo and every query value as `***`; a query part without `=` is a value too. */
export function shownUrl(url: URL): string {
  const auth = url.username !== '' || url.password !== '' ? '***@' : ''
  const query =
    url.search.length <= 1
      ? ''
      : '?' +
        url.search
          .slice(1)
          .split('&')
          .map(part => {
            const eq = part.indexOf('=')
            return eq < 0 ? (part === '' ? '' : '***') : `${part.slice(0, eq)}=***`
          })
          .join('&')
  return `${url.protocol}//${auth}${url.host}${url.pathname}${query}`
}

/** A value of a URL to hide; only the password gets a name, the one a too-short warning would give. */
export interface UrlSecret {
  value: string
  name?: string
}

/**
 * The parts of the smoke URLs that are secret: user name, password and each
 * query value, as written and decoded. Reads the raw input, so that it can
 * be masked before anything parses (and might report) it.
 */
export function smokeUrlSecrets(raw: string): UrlSecret[] {
  const found: UrlSecret[] = []
  const both = (text: string, name?: string): void => {
    if (text === '') return
    found.push(name ? { value: text, name } : { value: text })
    const decoded = safeDecode(text)
    if (decoded !== text) found.push(name ? { value: decoded, name } : { value: decoded })
  }
  // White space between two URLs is an error later, but their parts are hidden first.
  for (const item of splitItems(raw).flatMap(text => text.split(/\s+/))) {
    let url: URL
    try {
      url = new URL(item)
    } catch {
      continue
    }
    both(url.username)
    both(url.password, 'smoke-url password')
    for (const part of url.search.slice(1).split('&')) {
      const eq = part.indexOf('=')
      both(eq < 0 ? part : part.slice(eq + 1))
      // `+` is a space in a query value.
      if (eq >= 0 && part.includes('+')) both(part.slice(eq + 1).replace(/\+/g, ' '))
    }
  }
  return found
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** `200-399`, `200,204,300-399`: codes and ranges of 100-599, comma- or space-separated. */
export function parseExpect(input: string, raw: string): StatusRange[] {
  const items = raw.split(/[\s,]+/).filter(Boolean)
  if (items.length === 0) throw new InputError(input, `is empty: give status codes or ranges like 200-399 or 200,204`)
  return items.map(item => {
    const match = /^(\d{3})(?:-(\d{3}))?$/.exec(item)
    if (!match) throw new InputError(input, `'${item}' is not a status code or range like 200, 204 or 200-399`)
    const from = Number(match[1])
    const to = Number(match[2] ?? match[1])
    for (const code of [from, to]) if (code < 100 || code > 599) throw new InputError(input, `'${item}': ${code} is not an HTTP status code (100-599)`)
    if (from > to) throw new InputError(input, `'${item}' is a range that ends before it starts: write it low-high, like ${to}-${from}`)
    return { from, to }
  })
}

/** The ranges as the log and summary show them: `200-399`, `200,204`. */
export function describeExpect(ranges: StatusRange[]): string {
  return ranges.map(r => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(',')
}

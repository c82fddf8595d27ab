// How a service's values are written on either side of the preview (a
// `docker stack config` document, a live ServiceSpec), brought to one form:
// durations in nanoseconds, images as the docker CLI writes them back,
// capabilities, ulimits and extra hosts as the Engine API keeps them. Pure.

export type Json = Record<string, unknown>

export const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value)
export const obj = (value: unknown): Json => (isObject(value) ? value : {})
export const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])
export const strings = (value: unknown): string[] => list(value).map(String)
export const str = (value: unknown): string | undefined => (value === undefined || value === null || value === '' ? undefined : String(value))

/** A Go duration (`1m30s`, `500ms`, `1h0m0s`) as `docker stack config` prints it, in nanoseconds. */
export function durationNs(value: unknown): number {
  if (typeof value === 'number') return value
  const text = str(value)
  if (text === undefined) return 0
  const units: Record<string, number> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, µs: 1e3, ns: 1 }
  let total = 0
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(amount) * units[unit!]!
  return Math.round(total)
}

/** Nanoseconds shown the short way: `1m30s`, `500ms`, `0s`. */
export function showDuration(ns: number): string {
  if (ns === 0) return '0s'
  if (ns % 1e9 !== 0) return `${ns / 1e6}ms`
  const s = ns / 1e9
  const [h, m, rest] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60]
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${rest ? `${rest}s` : ''}`
}

/** A reference the way the docker CLI writes it back: `docker.io/library/` dropped, `latest` when there is no tag. */
export function normalizeImage(reference: string, keepDigest: boolean): string {
  let ref = reference.trim()
  const at = ref.indexOf('@')
  const digest = at >= 0 ? ref.slice(at) : ''
  if (at >= 0) ref = ref.slice(0, at)
  ref = ref.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\/(library\/)?/, '')
  const lastSlash = ref.lastIndexOf('/')
  const hasTag = ref.indexOf(':', lastSlash + 1) >= 0
  if (!hasTag && !(digest !== '' && keepDigest)) ref = `${ref}:latest`
  return keepDigest ? `${ref}${digest}` : ref
}

/** The docker CLI writes capabilities with the `CAP_` prefix. */
export const capabilities = (value: unknown): string[] =>
  strings(value)
    .map(c => (c.toUpperCase() === 'ALL' || c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`))
    .sort()

/** Compose's `ulimits: {nofile: {soft, hard}}` or `nofile: 10` as the API's `nofile=soft:hard`. */
export const composeUlimits = (value: unknown): string[] =>
  Object.entries(obj(value)).map(([name, limit]) =>
    isObject(limit) ? `${name}=${String(limit.soft)}:${String(limit.hard)}` : `${name}=${String(limit)}:${String(limit)}`
  )

/** `extra_hosts` entries `host:ip` (or `host=ip`) the way the API keeps them: `ip host`. */
export const composeHosts = (value: unknown): string[] =>
  (Array.isArray(value) ? strings(value) : Object.entries(obj(value)).map(([h, ip]) => `${h}:${String(ip)}`)).map(entry => {
    const at = entry.search(/[:=]/)
    return at < 0 ? entry : `${entry.slice(at + 1)} ${entry.slice(0, at)}`
  })

export const sysctls = (value: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(value)).map(([k, v]) => [k, String(v)]))

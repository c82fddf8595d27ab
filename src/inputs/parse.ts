// Pure parsers for action inputs. Every error names the input and the
// accepted forms, and never echoes a value that might be a secret.
import type { HostPort } from '../ports.js'
import { defaultOf } from './table.js'

export class InputError extends Error {
  constructor(input: string, message: string) {
    super(`${input}: ${message}`)
    this.name = 'InputError'
  }
}

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000 } as const

/** `90s`, `5m`, `1h`, `1h30m`, `2m30s`, or bare seconds (`600`, as other swarm actions take it) → milliseconds (> 0). */
export function parseDuration(input: string, raw: string): number {
  const text = raw.trim()
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(text)
  // A bare number is seconds; `5m10` is not a duration.
  const bare = match !== null && /^\d+$/.test(text)
  const ms =
    match && (bare || !/\d$/.test(text)) ? Number(match[1] ?? 0) * UNIT_MS.h + Number(match[2] ?? 0) * UNIT_MS.m + Number(match[3] ?? 0) * UNIT_MS.s : 0
  if (!match || text === '' || ms <= 0) {
    throw new InputError(input, `'${text}' is not a duration like 90s, 5m or 1h, or a number of seconds like 600`)
  }
  return ms
}

/** A boolean input by its name, the table's default when it is empty. */
export function readBoolean(read: (name: string) => string, name: string): boolean {
  return parseBoolean(name, read(name), defaultOf(name) === 'true')
}

export function parseBoolean(input: string, raw: string, fallback: boolean): boolean {
  const text = raw.trim().toLowerCase()
  if (text === '') return fallback
  if (['true', 'yes', '1'].includes(text)) return true
  if (['false', 'no', '0'].includes(text)) return false
  throw new InputError(input, `'${raw.trim()}' is not a boolean: use true or false`)
}

/** Non-empty, trimmed lines; `#` starts a comment line. */
export function parseLines(raw: string): string[] {
  return raw
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'))
}

// Control characters are what this pattern is for: tab is the one allowed.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/

export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Multiline `KEY=VALUE`. The value is everything after the first `=` and is
 * kept byte for byte (no trimming, no quote removal): it may be a secret.
 * Errors cite line numbers, never line content.
 */
export function parseKeyValues(input: string, raw: string): Map<string, string> {
  const result = new Map<string, string>()
  const firstLine = new Map<string, number>()
  const lines = raw.split(/\r?\n/)
  lines.forEach((line, index) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return
    const eq = line.indexOf('=')
    if (eq < 0) {
      throw new InputError(input, `line ${index + 1} has no '=': each line must be KEY=VALUE (a multi-line value cannot be passed this way)`)
    }
    // The text before `=` is not quoted back: on a stray line of a multi-line
    // secret it would be part of the secret.
    const key = line.slice(0, eq).trim()
    if (!ENV_KEY.test(key)) {
      throw new InputError(input, `line ${index + 1}: the name before '=' is not valid: use letters, digits and '_', not starting with a digit`)
    }
    const steers = steeringName(key)
    if (steers) throw new InputError(input, `line ${index + 1}: ${key} ${steers}: use another name`)
    if (result.has(key)) throw new InputError(input, `line ${index + 1} sets the same name as line ${firstLine.get(key)}`)
    const value = line.slice(eq + 1)
    // A NUL makes spawn() fail with an error that quotes the value; the
    // others rewrite the terminal or the log. The value is not quoted back.
    if (CONTROL.test(value)) {
      throw new InputError(
        input,
        `line ${index + 1}: the value of ${key} holds a control character (NUL, another C0 control other than tab, or DEL): remove it`
      )
    }
    firstLine.set(key, index + 1)
    result.set(key, value)
  })
  return result
}

// These values become the environment of a docker CLI child (`env` of
// `docker stack deploy`, `build-args` of `docker build`), where such names
// decide which binary runs, what it loads, where it connects and what it
// trusts. NODE_ENV is only an application setting, common in compose files.
const STEERING_NAMES = new Set(['PATH', 'HOME', 'TMPDIR', 'BASH_ENV', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'GODEBUG'])
const STEERING_PREFIXES = ['LD_', 'DOCKER_', 'BUILDX_', 'BUILDKIT_', 'NODE_']

/** Why a variable name must not reach a docker CLI child, or undefined. */
export function steeringName(key: string): string | undefined {
  // Go's proxy settings are read in either case.
  if (/_PROXY$/i.test(key)) return 'would change where the docker CLI connects'
  if (key === 'NODE_ENV') return undefined
  if (STEERING_NAMES.has(key) || STEERING_PREFIXES.some(prefix => key.startsWith(prefix))) {
    return 'would change how the docker CLI runs (which binary, what it loads, where it connects or what it trusts)'
  }
  return undefined
}

// Swarm names services `<stack>_<service>` and networks `<stack>_default`,
// and accepts a name only if it is at most 63 characters and of this shape
// (swarmkit's validateAnnotations): letters, digits, '-' and '_', starting
// and ending with a letter or digit. 50 leaves room for `_default` and a
// service name. The length is checked first, and the pattern cannot
// backtrack (swarmkit's own `^[a-zA-Z0-9](?:[-_]*[a-zA-Z0-9]+)*$` is fine in
// Go's linear engine but exponential in JavaScript's).
const STACK_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_-]*[a-zA-Z0-9])?$/
const STACK_NAME_MAX = 50

/**
 * The stack a repository deploys when no stack is given, as matchory's
 * action names it: the repository's name (GITHUB_REPOSITORY is
 * `owner/name`), lower-cased, each run of other characters (and of '-') made one '-',
 * trimmed to what parseStackName accepts. '' when nothing is left.
 */
export function stackNameOf(repository: string): string {
  const name = repository.slice(repository.lastIndexOf('/') + 1).toLowerCase()
  const cleaned = name
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z0-9]+/, '')
  return cleaned.slice(0, STACK_NAME_MAX).replace(/[^a-z0-9]+$/, '')
}

/** The stack input, or the repository's name made a stack name (stackNameOf). */
export function readStackName(raw: string, repository: string | undefined): string {
  if (raw.trim() !== '' || repository === undefined || repository === '') {
    if (raw.trim() === '' && !repository) throw new InputError('stack', 'is required (outside a GitHub workflow, where GITHUB_REPOSITORY names the default)')
    return parseStackName('stack', raw)
  }
  const name = stackNameOf(repository)
  if (name === '') throw new InputError('stack', "is required: the repository's name has no letter or digit to name a stack after")
  return parseStackName('stack', name)
}

export function parseStackName(input: string, raw: string): string {
  const name = raw.trim()
  if (name === '') throw new InputError(input, 'is required')
  if (name.length > STACK_NAME_MAX) {
    throw new InputError(input, `is ${name.length} characters long: at most ${STACK_NAME_MAX}, so that Swarm's <stack>_<service> names fit in 63`)
  }
  if (!STACK_NAME.test(name)) {
    throw new InputError(
      input,
      `'${name}' is not a valid stack name: use letters, digits, '-' and '_', start and end with a letter or digit, at most ${STACK_NAME_MAX} characters`
    )
  }
  return name
}

/** `name`, `name:port`, `1.2.3.4:2222`, `[::1]:22`, or a bare IPv6 address. */
export function parseHost(input: string, raw: string, defaultPort: number): HostPort {
  const text = raw.trim()
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text)
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? parsePort(input, bracketed[2]) : defaultPort }
  if ((text.match(/:/g) ?? []).length > 1 && /^[0-9a-fA-F:.]+$/.test(text)) return { host: text, port: defaultPort }
  const plain = /^([a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?)(?::(\d+))?$/.exec(text)
  if (!plain) throw new InputError(input, `'${text}' is not a host name or address (optionally with :port)`)
  return { host: plain[1]!, port: plain[2] ? parsePort(input, plain[2]) : defaultPort }
}

/** Several managers, newline- or comma-separated, each like parseHost; duplicates once. */
export function parseHosts(input: string, raw: string, defaultPort: number): HostPort[] {
  const hosts: HostPort[] = []
  for (const item of raw
    .split(/[\n,]/)
    .map(text => text.trim())
    .filter(text => text !== '' && !text.startsWith('#'))) {
    const parsed = parseHost(input, item, defaultPort)
    if (!hosts.some(h => h.host.toLowerCase() === parsed.host.toLowerCase() && h.port === parsed.port)) hosts.push(parsed)
  }
  if (hosts.length === 0) throw new InputError(input, 'names no host: give one or more addresses, newline- or comma-separated')
  return hosts
}

export function parsePort(input: string, raw: string): number {
  const text = raw.trim()
  const port = Number(text)
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new InputError(input, `'${text}' is not a TCP port (1-65535)`)
  }
  return port
}

// Docker's reference grammar for a repository (no tag, no digest). The first
// component is a registry only if it looks like a host, as splitRepository says.
const PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/
// Docker also accepts upper case in a host name; this action does not, so
// that one registry has one spelling in logins and credentials.
const DOMAIN = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]+)?$/
const TAG = /^[\w][\w.-]{0,127}$/

export function parseRepository(input: string, raw: string): string {
  const repo = raw.trim()
  const slash = repo.indexOf('/')
  const first = slash < 0 ? '' : repo.slice(0, slash)
  const path = hasDomain(repo) ? repo.slice(slash + 1) : repo
  if ((hasDomain(repo) && !DOMAIN.test(first)) || !PATH.test(path) || repo.length > 255) {
    const lowercase = repo !== repo.toLowerCase() && PATH.test(path.toLowerCase()) ? ': it must be lowercase' : ''
    throw new InputError(
      input,
      `'${repo}' is not an image repository like docker.io/acme/api or registry.example.com:5000/team/api (lowercase, no tag or digest)${lowercase}`
    )
  }
  return repo
}

export function parseTags(input: string, raw: string, fallback: string | undefined): string[] {
  const tags = parseLines(raw)
  if (tags.length === 0) {
    if (!fallback) throw new InputError(input, 'is empty and GITHUB_SHA is not set: give at least one tag')
    tags.push(fallback)
  }
  for (const tag of tags) {
    if (!TAG.test(tag)) {
      throw new InputError(input, `'${tag}' is not a valid tag: letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'`)
    }
  }
  return [...new Set(tags)]
}

export interface RepositoryName {
  /** Where to log in and what to ask: `docker.io` for Docker Hub, whatever spelling the name used. */
  registry: string
  /** The repository as the registry's HTTP API names it (`library/nginx` for `nginx`). */
  repository: string
}

/**
 * Docker's split of an image name (distribution/reference): the first path
 * component is a host when it has a dot or a port or is `localhost`; else the
 * name is on Docker Hub, whose official images live under `library/`.
 */
export function splitRepository(name: string): RepositoryName {
  if (!hasDomain(name)) return { registry: 'docker.io', repository: name.includes('/') ? name : `library/${name}` }
  const slash = name.indexOf('/')
  const registry = normalizeRegistry(name.slice(0, slash))
  const repository = name.slice(slash + 1)
  return { registry, repository: registry === 'docker.io' && !repository.includes('/') ? `library/${repository}` : repository }
}

/** The registry a repository lives on: its host, or `docker.io`. */
export function registryOf(repository: string): string {
  return splitRepository(repository).registry
}

/** `index.docker.io` is Docker Hub's old name; the docker CLI keeps its login under Docker Hub's. */
export function normalizeRegistry(registry: string): string {
  return registry === 'index.docker.io' ? 'docker.io' : registry
}

function hasDomain(name: string): boolean {
  const slash = name.indexOf('/')
  if (slash < 0) return false
  const first = name.slice(0, slash)
  return first.includes('.') || first.includes(':') || first === 'localhost'
}

// known_hosts parsing and host key checks, as OpenSSH does them: plain and
// hashed (`|1|salt|hash`) host names, `[host]:port`, wildcard and negated
// patterns. Pure: the SSH client hands us the key blob and we decide.
import { createHash, createHmac } from 'node:crypto'

export interface KnownHost {
  patterns: string
  keyType: string
  /** The key blob as sent in the SSH handshake. */
  key: Buffer
  revoked: boolean
}

export function parseKnownHosts(text: string): KnownHost[] {
  const entries: KnownHost[] = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const fields = line.split(/\s+/)
    let revoked = false
    if (fields[0]?.startsWith('@')) {
      const marker = fields.shift()
      // A CA key would need certificate checking; refuse rather than half-trust it.
      if (marker === '@cert-authority') throw new Error('known-hosts: @cert-authority lines are not supported; list the host keys themselves')
      if (marker !== '@revoked') throw new Error(`known-hosts: unknown marker ${marker}`)
      revoked = true
    }
    const [patterns, keyType, keyText] = fields
    if (!patterns || !keyType || !keyText || !/^[A-Za-z0-9+/]+={0,2}$/.test(keyText)) {
      throw new Error('known-hosts: each line must be "HOSTS KEYTYPE BASE64KEY", as ssh-keyscan prints')
    }
    entries.push({ patterns, keyType, key: Buffer.from(keyText, 'base64'), revoked })
  }
  if (!entries.some(e => !e.revoked)) throw new Error('known-hosts: no host key in it')
  return entries
}

/**
 * The name OpenSSH looks up: `host`, or `[host]:port` off port 22, lower-cased
 * as ssh does before any lookup (a hashed name is the HMAC of this text).
 */
export function hostKeyName(host: string, port: number): string {
  const name = host.toLowerCase()
  return port === 22 ? name : `[${name}]:${port}`
}

/**
 * OpenSSH's `match_pattern`: `*` any run, `?` one character, the whole name.
 * Greedy with a return to the last `*` only: each star restarts no earlier
 * than the one before did, so it is O(name × glob) at worst (a regex of
 * `.*` per star backtracked exponentially on `*a*a*a*a*a*a*a*a*b`).
 */
function globMatches(glob: string, name: string): boolean {
  let g = 0
  let n = 0
  let star = -1
  let resume = 0
  while (n < name.length) {
    if (g < glob.length && (glob[g] === '?' || glob[g] === name[n])) {
      g++
      n++
    } else if (g < glob.length && glob[g] === '*') {
      star = g++
      resume = n
    } else if (star >= 0) {
      g = star + 1
      n = ++resume
    } else {
      return false
    }
  }
  while (glob[g] === '*') g++
  return g === glob.length
}

function hashedMatch(pattern: string, name: string): boolean {
  const [, magic, salt, hash] = pattern.split('|')
  if (magic !== '1' || !salt || !hash) return false
  const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64')
  return mac === hash
}

export function matchesHost(patterns: string, host: string, port: number): boolean {
  const name = hostKeyName(host, port)
  if (patterns.startsWith('|')) return hashedMatch(patterns, name)
  let matched = false
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!')
    // ssh lower-cases the pattern as well as the name (match_hostname).
    if (globMatches((negated ? pattern.slice(1) : pattern).toLowerCase(), name)) {
      if (negated) return false
      matched = true
    }
  }
  return matched
}

export function entriesFor(entries: KnownHost[], host: string, port: number): KnownHost[] {
  return entries.filter(e => matchesHost(e.patterns, host, port))
}

export type HostKeyDecision = { ok: true } | { ok: false; reason: string }

export function checkHostKey(entries: KnownHost[], host: string, port: number, key: Buffer): HostKeyDecision {
  const mine = entriesFor(entries, host, port)
  if (mine.some(e => e.revoked && e.key.equals(key))) return { ok: false, reason: 'the host key is marked @revoked in known-hosts' }
  if (mine.some(e => !e.revoked && e.key.equals(key))) return { ok: true }
  const name = hostKeyName(host, port)
  return mine.length === 0
    ? { ok: false, reason: `known-hosts has no entry for ${name}` }
    : {
        ok: false,
        reason: `the host key of ${name} (${fingerprint(key)}) does not match known-hosts: refusing to connect (possible man-in-the-middle, or the host was rebuilt)`
      }
}

/** Host key algorithms to offer, so the server presents a key we can check. */
export function hostKeyAlgorithms(entries: KnownHost[], host: string, port: number): string[] {
  const algorithms: string[] = []
  for (const { keyType, revoked } of entriesFor(entries, host, port)) {
    if (revoked) continue
    // An RSA key is verified with SHA-2 signatures only (RFC 8332), as OpenSSH 8.8+ does: ssh-rsa signs with SHA-1.
    const names = keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256'] : [keyType]
    for (const name of names) if (!algorithms.includes(name)) algorithms.push(name)
  }
  return algorithms
}

export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`
}

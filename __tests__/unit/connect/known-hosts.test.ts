import { describe, expect, it } from '@jest/globals'
import { createHmac, randomBytes } from 'node:crypto'
import { checkHostKey, hostKeyAlgorithms, matchesHost, parseKnownHosts } from '../../../src/connect/known-hosts.js'

/** An SSH wire-format ed25519 public key blob, as a server sends it. */
function blob(seed: number): Buffer {
  const type = Buffer.from('ssh-ed25519')
  const key = Buffer.alloc(32, seed)
  const len = (n: number): Buffer => {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(n)
    return b
  }
  return Buffer.concat([len(type.length), type, len(key.length), key])
}
const line = (hosts: string, seed: number): string => `${hosts} ssh-ed25519 ${blob(seed).toString('base64')}`

describe('known-hosts', () => {
  it('accepts the listed key and refuses another, naming the fingerprint', () => {
    const entries = parseKnownHosts(`# comment\n${line('10.77.0.2', 1)}\n`)
    expect(checkHostKey(entries, '10.77.0.2', 22, blob(1))).toEqual({ ok: true })
    const refused = checkHostKey(entries, '10.77.0.2', 22, blob(2))
    expect(refused.ok).toBe(false)
    expect(!refused.ok && refused.reason).toMatch(/host key of 10\.77\.0\.2 \(SHA256:[A-Za-z0-9+/]+\) does not match known-hosts/)
  })

  it('matches [host]:port only off port 22', () => {
    const entries = parseKnownHosts(line('[mgr]:2222', 1))
    expect(checkHostKey(entries, 'mgr', 2222, blob(1)).ok).toBe(true)
    expect(checkHostKey(entries, 'mgr', 22, blob(1))).toEqual({ ok: false, reason: 'known-hosts has no entry for mgr' })
  })

  it('matches hashed names, wildcards and negations', () => {
    const salt = randomBytes(20)
    const hash = createHmac('sha1', salt).update('mgr.example.com').digest('base64')
    expect(matchesHost(`|1|${salt.toString('base64')}|${hash}`, 'mgr.example.com', 22)).toBe(true)
    expect(matchesHost(`|1|${salt.toString('base64')}|${hash}`, 'other', 22)).toBe(false)
    expect(matchesHost('*.example.com,!bad.example.com', 'mgr.example.com', 22)).toBe(true)
    expect(matchesHost('*.example.com,!bad.example.com', 'bad.example.com', 22)).toBe(false)
    expect(matchesHost('10.77.0.?', '10.77.0.2', 22)).toBe(true)
  })

  // OpenSSH's match_pattern semantics: `*` any run, `?` one character, whole name, case-insensitive.
  it('matches globs as OpenSSH does', () => {
    expect(matchesHost('*', 'anything', 22)).toBe(true)
    expect(matchesHost('m*r', 'mr', 22)).toBe(true)
    expect(matchesHost('m*r', 'manager', 22)).toBe(true)
    expect(matchesHost('m*r', 'managers', 22)).toBe(false)
    expect(matchesHost('*.example.com', 'example.com', 22)).toBe(false)
    expect(matchesHost('??', 'ab', 22)).toBe(true)
    expect(matchesHost('??', 'abc', 22)).toBe(false)
    expect(matchesHost('a*b*c', 'aXbYbZc', 22)).toBe(true)
    expect(matchesHost('a*b*c', 'aXbYbZ', 22)).toBe(false)
    expect(matchesHost('[mgr]:*', 'mgr', 2222)).toBe(true)
    expect(matchesHost('[mgr]:22?', 'mgr', 2222)).toBe(false)
    expect(matchesHost('10.77.0.+', '10.77.0.2', 22)).toBe(false)
    expect(matchesHost('(a|b)', 'a', 22)).toBe(false)
    expect(matchesHost('', 'mgr', 22)).toBe(false)
    expect(matchesHost('!mgr', 'mgr', 22)).toBe(false)
    expect(matchesHost('!other', 'mgr', 22)).toBe(false)
  })

  // A regex with one `.*` per star backtracked exponentially: this pair took 269 s and blocked the event loop.
  it('matches a pathological glob in linear time', () => {
    const host = 'a'.repeat(60)
    expect(matchesHost('*a*a*a*a*a*a*a*a*b', host, 22)).toBe(false)
    expect(matchesHost('*a*a*a*a*a*a*a*a*a', host, 22)).toBe(true)
    expect(matchesHost(`${'*'.repeat(500)}b`, 'a'.repeat(5000), 22)).toBe(false)
  })

  it('refuses a revoked key even if also listed', () => {
    const entries = parseKnownHosts(`${line('mgr', 1)}\n@revoked ${line('mgr', 1)}`)
    expect(checkHostKey(entries, 'mgr', 22, blob(1))).toEqual({ ok: false, reason: 'the host key is marked @revoked in known-hosts' })
  })

  it('offers the host key algorithms known for the host', () => {
    const entries = parseKnownHosts(`${line('mgr', 1)}\nmgr ssh-rsa AAAA\nother ecdsa-sha2-nistp256 AAAA`)
    // RSA keys are verified with SHA-2 signatures only, as OpenSSH 8.8+ does: never ssh-rsa (SHA-1).
    expect(hostKeyAlgorithms(entries, 'mgr', 22)).toEqual(['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256'])
    expect(hostKeyAlgorithms(parseKnownHosts('mgr ssh-rsa AAAA'), 'mgr', 22)).toEqual(['rsa-sha2-512', 'rsa-sha2-256'])
  })

  // OpenSSH lower-cases the host name before it looks it up (ssh -o CanonicalizeHostname aside).
  it('lower-cases the host before matching hashed and plain names', () => {
    const salt = randomBytes(20)
    const hashed = (name: string): string => `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`
    const entries = parseKnownHosts(`${hashed('mgr.example.com')} ssh-ed25519 ${blob(1).toString('base64')}`)
    expect(checkHostKey(entries, 'MGR.Example.COM', 22, blob(1))).toEqual({ ok: true })
    const onPort = parseKnownHosts(`${hashed('[mgr.example.com]:2222')} ssh-ed25519 ${blob(1).toString('base64')}`)
    expect(checkHostKey(onPort, 'Mgr.example.com', 2222, blob(1))).toEqual({ ok: true })
    expect(hostKeyAlgorithms(onPort, 'MGR.EXAMPLE.COM', 2222)).toEqual(['ssh-ed25519'])
    expect(matchesHost('MGR.example.com', 'mgr.EXAMPLE.com', 22)).toBe(true)
  })

  it('rejects malformed text and CA lines', () => {
    expect(() => parseKnownHosts('just-a-host')).toThrow(/each line must be "HOSTS KEYTYPE BASE64KEY"/)
    expect(() => parseKnownHosts('')).toThrow('known-hosts: no host key in it')
    expect(() => parseKnownHosts(`@cert-authority ${line('*', 1)}`)).toThrow(/@cert-authority lines are not supported/)
  })
})

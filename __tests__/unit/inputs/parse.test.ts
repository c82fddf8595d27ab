import { describe, expect, it } from '@jest/globals'
import { parseBoolean, parseDuration, parseHost, parseKeyValues, parseRepository, parseStackName, parseTags, registryOf } from '../../../src/inputs/parse.js'
import { parseEcrRegistry } from '../../../src/registry/credentials/ecr.js'

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2m30s', 150_000]
  ])('%s', (text, ms) => expect(parseDuration('timeout', text)).toBe(ms))

  it.each(['5 parsecs', '', '0s', '-5m', '0', '1.5m', 'm', '5m10'])('rejects %p naming the input', text => {
    expect(() => parseDuration('timeout', text)).toThrow(/^timeout: .* is not a duration like 90s, 5m or 1h, or a number of seconds like 600$/)
  })
})

describe('parseKeyValues', () => {
  it('keeps values byte for byte, splitting on the first =', () => {
    const values = parseKeyValues('env', 'A=x=y\nB= spaced \'"$(id)`\nC=\n# comment\n\nD=ünï')
    expect([...values]).toEqual([
      ['A', 'x=y'],
      ['B', ' spaced \'"$(id)`'],
      ['C', ''],
      ['D', 'ünï']
    ])
  })

  it('rejects a line without = by number, never echoing it', () => {
    expect(() => parseKeyValues('env', 'A=1\nsupersecretvalue')).toThrow("env: line 2 has no '='")
    try {
      parseKeyValues('env', 'A=1\nsupersecretvalue')
    } catch (error) {
      expect((error as Error).message).not.toContain('supersecretvalue')
    }
  })

  it('rejects bad and duplicate keys', () => {
    expect(() => parseKeyValues('env', '1A=x')).toThrow("env: line 1: the name before '=' is not valid")
    // A stray base64 line of a multi-line secret: its text is not quoted back.
    expect(() => parseKeyValues('env', 'A=1\nMIIEv+QIBAD/ANBg=')).toThrow(/^env: line 2: the name before '=' is not valid: use letters/)
    expect(() => parseKeyValues('env', 'A=1\nMIIEv+QIBAD/ANBg=')).not.toThrow(/MIIEv/)
    expect(() => parseKeyValues('env', 'A=1\nA=2')).toThrow('env: line 2 sets the same name as line 1')
  })
})

describe('parseStackName', () => {
  it.each(['web', 'my-app_2', 'A1'])('accepts %s', name => expect(parseStackName('stack', name)).toBe(name))
  it.each(['x;touch /tmp/p', '-web', 'web-', 'a b', 'a/b', "a'b"])('rejects %p', name => {
    expect(() => parseStackName('stack', name)).toThrow(/^stack: .* is not a valid stack name/)
  })
  it('requires a value', () => expect(() => parseStackName('stack', '  ')).toThrow('stack: is required'))
  // The old pattern backtracked exponentially on these: it would not return at all.
  it('rejects long and near-miss names at once, without backtracking', () => {
    expect(() => parseStackName('stack', 'a'.repeat(59) + '!')).toThrow(/^stack: is 60 characters long: at most 50/)
    expect(() => parseStackName('stack', 'a'.repeat(48) + '!')).toThrow(/^stack: 'a{48}!' is not a valid stack name/)
    expect(() => parseStackName('stack', 'a-'.repeat(24) + '_')).toThrow(/is not a valid stack name/)
    expect(parseStackName('stack', 'a'.repeat(50))).toBe('a'.repeat(50))
    expect(parseStackName('stack', 'a-_-b')).toBe('a-_-b')
  })
})

describe('parseHost', () => {
  it('reads host and port forms', () => {
    expect(parseHost('host', 'mgr.example.com', 22)).toEqual({ host: 'mgr.example.com', port: 22 })
    expect(parseHost('host', '10.0.0.5:2222', 22)).toEqual({ host: '10.0.0.5', port: 2222 })
    expect(parseHost('host', '[::1]:2200', 22)).toEqual({ host: '::1', port: 2200 })
    expect(parseHost('host', 'fe80::1', 22)).toEqual({ host: 'fe80::1', port: 22 })
  })
  it.each(['user@host', 'host:99999', 'host;id', ''])('rejects %p', text => {
    expect(() => parseHost('host', text, 22)).toThrow(/^host: /)
  })
})

describe('images and registries', () => {
  it('accepts repositories, rejects tags and uppercase', () => {
    expect(parseRepository('image', 'docker.io/acme/api')).toBe('docker.io/acme/api')
    expect(parseRepository('image', 'registry.example.com:5000/team/api')).toBe('registry.example.com:5000/team/api')
    expect(() => parseRepository('image', 'acme/api:latest')).toThrow(/image: .* no tag or digest/)
    expect(() => parseRepository('image', 'Acme/api')).toThrow(/^image: /)
  })
  it('finds the registry of a repository', () => {
    expect(registryOf('acme/api')).toBe('docker.io')
    expect(registryOf('api')).toBe('docker.io')
    expect(registryOf('docker.io/acme/api')).toBe('docker.io')
    expect(registryOf('10.77.0.1:5000/demo/app')).toBe('10.77.0.1:5000')
    expect(registryOf('localhost/app')).toBe('localhost')
  })
  it('recognises ECR', () => {
    expect(parseEcrRegistry('123456789012.dkr.ecr.eu-west-1.amazonaws.com')).toEqual({ accountId: '123456789012', region: 'eu-west-1' })
    expect(parseEcrRegistry('ghcr.io')).toBeUndefined()
  })
  it('defaults tags to the commit and validates them', () => {
    expect(parseTags('tags', '', 'abc123')).toEqual(['abc123'])
    expect(parseTags('tags', 'v1\nlatest\nv1', 'abc')).toEqual(['v1', 'latest'])
    expect(() => parseTags('tags', '', undefined)).toThrow(/tags: is empty and GITHUB_SHA is not set/)
    expect(() => parseTags('tags', 'bad tag', 'x')).toThrow(/tags: 'bad tag' is not a valid tag/)
  })
})

describe('parseBoolean', () => {
  it('reads booleans with a default', () => {
    expect(parseBoolean('prune', '', false)).toBe(false)
    expect(parseBoolean('prune', 'TRUE', false)).toBe(true)
    expect(() => parseBoolean('prune', 'maybe', false)).toThrow("prune: 'maybe' is not a boolean")
  })
})

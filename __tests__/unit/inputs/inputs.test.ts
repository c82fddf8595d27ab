import { describe, expect, it } from '@jest/globals'
import { generateKeyPairSync } from 'node:crypto'
import { getInputs } from '../../../src/inputs/inputs.js'
import { secretsOf } from '../../../src/secrets.js'

const KEY = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs1' }).toString()
const base: Record<string, string> = {
  host: '10.77.0.2',
  user: 'deploy',
  'ssh-key': KEY,
  'known-hosts': '10.77.0.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==',
  stack: 'web',
  image: '10.77.0.1:5000/demo/app',
  env: 'DB_PASSWORD=hunter2\nTOKEN=a=b'
}
const files: Record<string, string> = {
  'docker-compose.yml': '',
  './Dockerfile': '',
  'app/Dockerfile': '',
  'prod.env': '# prod\nDB_PASSWORD=from-file\nREGION=eu\n'
}
const context = { env: { GITHUB_SHA: 'abc123' }, isFile: (p: string) => p in files, readFile: (p: string) => files[p]! }
const read = (values: Record<string, string>) => (name: string) => values[name] ?? ''

describe('getInputs', () => {
  it('reads a complete SSH deploy', () => {
    const inputs = getInputs(read(base), context)
    expect(inputs.target).toMatchObject({ kind: 'ssh', host: '10.77.0.2', port: 22, user: 'deploy', insecureIgnoreHostKey: false })
    expect(inputs.stack).toBe('web')
    expect(inputs.composeFiles).toEqual(['docker-compose.yml'])
    expect(inputs.image).toMatchObject({ repository: '10.77.0.1:5000/demo/app', tags: ['abc123'], context: '.', dockerfile: './Dockerfile' })
    expect(inputs.registry).toEqual({ registry: '10.77.0.1:5000' })
    expect([...inputs.env]).toEqual([
      ['DB_PASSWORD', 'hunter2'],
      ['TOKEN', 'a=b']
    ])
    expect(inputs.timeoutMs).toBe(600_000)
    expect(inputs.prune).toBe(false)
  })

  it('without host, deploys to the local engine and rejects stray SSH inputs', () => {
    expect(getInputs(read({ stack: 'web' }), context).target).toEqual({ kind: 'local' })
    expect(() => getInputs(read({ stack: 'web', user: 'x' }), context)).toThrow('user: is set but host is empty')
  })

  it.each([
    [{ stack: '' }, /^stack: is required \(outside a GitHub workflow/],
    [{ stack: 'x;touch /tmp/p' }, /^stack: 'x;touch \/tmp\/p' is not a valid stack name/],
    [{ timeout: '5 parsecs' }, /^timeout: '5 parsecs' is not a duration/],
    [{ env: 'GOOD=1\nno-equals-here' }, /^env: line 2 has no '='/],
    [{ 'known-hosts': '' }, /^known-hosts: is required with host/],
    [{ user: '' }, /^user: is required with host/],
    [{ 'ssh-key': 'not a key' }, /^ssh-key: is not a private key/],
    [{ port: '70000', host: 'mgr' }, /^port: '70000' is not a TCP port/],
    [{ 'compose-file': 'missing.yml' }, /^compose-file: 'missing.yml' does not exist/],
    [{ dockerfile: 'nope' }, /^dockerfile: '.\/nope' does not exist/],
    [{ 'registry-username': 'u' }, /^registry-password: registry-username and registry-password go together/],
    [{ env: 'IMAGE=x' }, /^env: IMAGE is set by the action/]
  ])('rejects %p', (override, message) => {
    expect(() => getInputs(read({ ...base, ...override }), context)).toThrow(message)
  })

  // Values of env reach `docker stack deploy`'s environment and build-args `docker build`'s.
  it.each([
    ['env', 'PATH'],
    ['env', 'HOME'],
    ['env', 'LD_PRELOAD'],
    ['env', 'DOCKER_HOST'],
    ['env', 'DOCKER_CONFIG'],
    ['env', 'BUILDX_CONFIG'],
    ['env', 'BUILDKIT_HOST'],
    ['env', 'NODE_OPTIONS'],
    ['env', 'HTTPS_PROXY'],
    ['env', 'https_proxy'],
    ['env', 'All_Proxy'],
    ['env', 'no_proxy'],
    ['env', 'SSL_CERT_FILE'],
    ['build-args', 'PATH'],
    ['build-args', 'DOCKER_HOST'],
    ['build-args', 'http_proxy'],
    ['build-args', 'LD_LIBRARY_PATH'],
    ['env-file', 'DOCKER_TLS_VERIFY']
  ])('rejects %s key %s, which steers the docker CLI, naming the key and not the value', (input, key) => {
    const overrides: Record<string, string> = input === 'env-file' ? { 'env-file': 'steer.env' } : { [input]: `FIRST=1\n${key}=value-${key}-secret` }
    const withFile = {
      ...context,
      isFile: (p: string) => p === 'steer.env' || p in files,
      readFile: (p: string) => (p === 'steer.env' ? `${key}=value-${key}-secret\n` : files[p]!)
    }
    let message = ''
    try {
      getInputs(read({ ...base, ...overrides }), withFile)
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(new RegExp(`^${input}: line ${input === 'env-file' ? 1 : 2}: ${key} `))
    expect(message).not.toContain('secret')
  })

  it('keeps names that merely look alike, IMAGE as before, and NODE_ENV', () => {
    const env = 'MY_PATH=1\nHOMEPAGE=2\nDOCKERFILE_DIR=3\nPROXY=4\nPROXY_URL=5\nNODE_ENV=production\nXLD_A=6'
    expect([...getInputs(read({ ...base, env }), context).env.keys()]).toEqual([
      'MY_PATH',
      'HOMEPAGE',
      'DOCKERFILE_DIR',
      'PROXY',
      'PROXY_URL',
      'NODE_ENV',
      'XLD_A'
    ])
    expect(getInputs(read({ ...base, image: '', env: 'IMAGE=x' }), context).env.get('IMAGE')).toBe('x')
    expect(getInputs(read({ ...base, 'build-args': 'VERSION=1' }), context).image?.buildArgs.get('VERSION')).toBe('1')
  })

  // A NUL reaches spawn(), whose error quotes the whole environment entry.
  it.each([
    ['env', 'NUL', '\u0000'],
    ['env', 'ESC', '\u001b[31m'],
    ['env', 'CR', 'a\rb'],
    ['env', 'DEL', '\u007f'],
    ['build-args', 'BEL', '\u0007'],
    ['env-file', 'NUL', '\u0000']
  ])('rejects a control character in a %s value (%s) by line, without echoing the value', (input, _what, char) => {
    const text = `FIRST=1\nSECOND=before-secret${char}after-secret`
    const overrides: Record<string, string> = input === 'env-file' ? { 'env-file': 'ctl.env' } : { [input]: text }
    const withFile = { ...context, isFile: (p: string) => p === 'ctl.env' || p in files, readFile: (p: string) => (p === 'ctl.env' ? text : files[p]!) }
    let message = ''
    try {
      getInputs(read({ ...base, ...overrides }), withFile)
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(new RegExp(`^${input}: line 2: the value of SECOND holds a control character`))
    expect(message).not.toContain('secret')
  })

  it('keeps tabs and every other character in values', () => {
    const env = 'A=tab\there\nB=ünï ✓ \u00a0 \u0085'
    expect([...getInputs(read({ ...base, env }), context).env.values()]).toEqual(['tab\there', 'ünï ✓ \u00a0 \u0085'])
  })

  it('allows skipping host key checks only when asked', () => {
    const inputs = getInputs(read({ ...base, 'known-hosts': '', 'insecure-ignore-host-key': 'true' }), context)
    expect(inputs.target).toMatchObject({ kind: 'ssh', knownHosts: undefined, insecureIgnoreHostKey: true })
  })

  it('lists every value to mask, even from lines that fail to parse', () => {
    const secrets = secretsOf(read({ ...base, 'registry-password': 'pw', env: 'A=one\nbad line\nB=two=2' }))
    expect(secrets).toEqual([
      { name: 'ssh-key', value: KEY },
      { name: 'registry-password', value: 'pw' },
      { name: 'env A', value: 'one' },
      { name: 'env B', value: 'two=2' }
    ])
  })

  it('reads env-file as data under env, and the passthrough list', () => {
    const inputs = getInputs(read({ ...base, 'env-file': 'prod.env', 'env-passthrough': 'GITHUB_SHA, GITHUB_REF' }), context)
    expect([...inputs.env]).toEqual([
      ['DB_PASSWORD', 'hunter2'],
      ['REGION', 'eu'],
      ['TOKEN', 'a=b']
    ])
    expect(inputs.passthrough).toEqual(['GITHUB_SHA', 'GITHUB_REF'])
    expect(getInputs(read({ ...base, 'env-passthrough': 'true' }), context).passthrough).toBe('all')
    expect(getInputs(read(base), context).passthrough).toEqual([])
    expect(() => getInputs(read({ ...base, 'env-passthrough': 'A;B' }), context)).toThrow("env-passthrough: 'A;B' is not a variable name")
    expect(() => getInputs(read({ ...base, 'env-file': 'missing.env' }), context)).toThrow("env-file: 'missing.env' does not exist")
  })
})

describe('several managers and connect-timeout', () => {
  it('reads host as several addresses, newline- or comma-separated, in order, with connect-timeout', () => {
    const inputs = getInputs(read({ ...base, host: 'm1.example.com\n10.0.0.2:2222, m3.example.com', port: '2200', 'connect-timeout': '5s' }), context)
    expect(inputs.target).toMatchObject({
      host: 'm1.example.com',
      port: 2200,
      managers: [
        { host: 'm1.example.com', port: 2200 },
        { host: '10.0.0.2', port: 2222 },
        { host: 'm3.example.com', port: 2200 }
      ],
      connectTimeoutMs: 5000
    })
    expect(getInputs(read(base), context).target).toMatchObject({ connectTimeoutMs: 10_000, managers: [{ host: '10.77.0.2', port: 22 }] })
    expect(() => getInputs(read({ ...base, 'connect-timeout': '0s' }), context)).toThrow("connect-timeout: '0s' is not a duration like 90s, 5m or 1h")
  })

  it('masks ssh-key-passphrase', () => {
    expect(secretsOf(read({ ...base, 'ssh-key-passphrase': 'the passphrase' }))).toContainEqual({ name: 'ssh-key-passphrase', value: 'the passphrase' })
  })
})

describe('jump-host', () => {
  const jumpKnown = '[bastion.example.com]:2022 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA=='
  it('reads user@host:port, the manager key by default, and jump-known-hosts', () => {
    const target = getInputs(read({ ...base, 'jump-host': 'hop@bastion.example.com:2022', 'jump-known-hosts': jumpKnown }), context).target
    expect(target).toMatchObject({ jump: { host: 'bastion.example.com', port: 2022, user: 'hop', privateKey: KEY.trim() + '\n', knownHosts: jumpKnown } })
    const own = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    expect(() => getInputs(read({ ...base, 'jump-host': 'bastion.example.com:2022', 'jump-known-hosts': jumpKnown, 'jump-ssh-key': own }), context)).toThrow(
      /^jump-ssh-key: is not a private key this action can read/
    )
    expect(getInputs(read({ ...base, 'jump-host': 'bastion.example.com:2022', 'jump-known-hosts': jumpKnown }), context).target).toMatchObject({
      jump: { user: 'deploy' }
    })
  })

  it.each([
    [{ 'jump-host': 'bastion.example.com' }, /^jump-known-hosts: is required with jump-host/],
    [
      { 'jump-host': 'bastion.example.com:2022', 'jump-known-hosts': 'other.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==' },
      /^jump-known-hosts: has no key for \[bastion\.example\.com\]:2022: add the line\(s\) ssh-keyscan -p 2022 bastion\.example\.com prints$/
    ],
    [{ 'jump-host': 'bad user@bastion' }, /^jump-host: 'bad user' is not a valid user name/],
    [{ 'jump-known-hosts': 'x' }, /^jump-known-hosts: is set but jump-host is empty/]
  ])('refuses %j', (more, message) => {
    expect(() => getInputs(read({ ...base, ...more }), context)).toThrow(message)
  })

  it('masks jump-ssh-key', () => {
    expect(secretsOf(read({ ...base, 'jump-ssh-key': 'JUMP KEY TEXT' }))).toContainEqual({ name: 'jump-ssh-key', value: 'JUMP KEY TEXT' })
  })
})

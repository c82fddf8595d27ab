// The release inputs: rollback, keep-releases, on-failure, environment.
import { describe, expect, it } from '@jest/globals'
import { getInputs } from '../../../src/inputs/inputs.js'
import { secretsOf } from '../../../src/secrets.js'
import { parseCommandLine } from '../../../src/cli/args.js'

const base: Record<string, string> = { stack: 'web' }
const context = { env: {}, isFile: (p: string) => p === 'docker-compose.yml', readFile: () => '' }
const get = (values: Record<string, string>) => getInputs(name => ({ ...base, ...values })[name] ?? '', context)

describe('release inputs', () => {
  it('reads rollback as previous, a number or a SHA, with defaults for the rest', () => {
    expect(get({})).toMatchObject({ rollback: undefined, keepReleases: 10, onFailure: 'swarm', deployment: undefined })
    expect(get({ rollback: 'previous' }).rollback).toEqual({ kind: 'previous' })
    expect(get({ rollback: '12' }).rollback).toEqual({ kind: 'number', number: 12 })
    expect(get({ rollback: 'ABCDEF1' }).rollback).toEqual({ kind: 'sha', sha: 'abcdef1' })
    expect(get({ rollback: '1234567' }).rollback).toEqual({ kind: 'sha', sha: '1234567' })
    expect(get({ 'keep-releases': '3', 'on-failure': 'rollback-stack' })).toMatchObject({ keepReleases: 3, onFailure: 'rollback-stack' })
  })

  it('a rollback needs no compose file in the checkout', () => {
    expect(() => get({ 'compose-file': 'gone.yml' })).toThrow(/compose-file: 'gone.yml' does not exist/)
    expect(get({ 'compose-file': 'gone.yml', rollback: 'previous' }).rollback).toEqual({ kind: 'previous' })
  })

  it('refuses bad values, naming the input and the forms', () => {
    expect(() => get({ rollback: 'last' })).toThrow("rollback: 'last' is not previous, a release number or a commit SHA")
    expect(() => get({ rollback: 'abc12' })).toThrow(/rollback: 'abc12'/)
    expect(() => get({ 'keep-releases': '0' })).toThrow("keep-releases: '0' is not a whole number from 1 to 9999")
    expect(() => get({ 'on-failure': 'rollback' })).toThrow("on-failure: 'rollback' is not swarm or rollback-stack")
    expect(() => get({ 'environment-url': 'https://x' })).toThrow(/environment-url: is set but environment is empty/)
    expect(() => get({ environment: 'prod', 'environment-url': 'x.example' })).toThrow(/is not an http or https URL/)
  })

  it('reads environment with its token; the default expression outside a runner is no token; the token is masked', () => {
    expect(get({ environment: 'prod', 'environment-url': 'https://shop.example', 'github-token': 'ghs_x' }).deployment).toEqual({
      environment: 'prod',
      url: 'https://shop.example',
      token: 'ghs_x'
    })
    expect(get({ environment: 'prod', 'github-token': '${{ github.token }}' }).deployment?.token).toBe('')
    expect(secretsOf(name => ({ 'github-token': 'ghs_secret_token' })[name] ?? '').map(s => s.value)).toContain('ghs_secret_token')
  })

  it('reads release-key as lines (rotation), refuses a short one without echoing it, masks it, and takes it from a file on the CLI, never a flag', () => {
    expect(get({}).releaseKey).toEqual([])
    expect(get({ 'release-key': ' new-key-0123456789abcdef \n\nold-key-0123456789abcdef\n' }).releaseKey).toEqual([
      'new-key-0123456789abcdef',
      'old-key-0123456789abcdef'
    ])
    expect(() => get({ 'release-key': 'new-key-0123456789abcdef\nshortkey' })).toThrow(
      'release-key: line 2 is shorter than 16 characters: use a random key, e.g. the output of openssl rand -hex 32'
    )
    expect(secretsOf(name => ({ 'release-key': 'the-release-key-0123456789' })[name] ?? '')).toContainEqual({
      name: 'release-key',
      value: 'the-release-key-0123456789'
    })
    const readFile = (file: string) => (file === 'release.key' ? 'from-file-key-0123456789\n' : undefined)
    expect(parseCommandLine(['--release-key-file', 'release.key'], { env: {}, readFile }).read('release-key')).toBe('from-file-key-0123456789\n')
    expect(() => parseCommandLine(['--release-key', 'on-the-command-line-key'], { env: {}, readFile })).toThrow(
      /release-key: is refused as a command-line flag/
    )
  })
})

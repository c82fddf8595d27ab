import { describe, expect, it } from '@jest/globals'
import { parseCommandLine } from '../../../src/cli/args.js'
import { parseCache, parsePlatforms } from '../../../src/inputs/build-inputs.js'
import { getInputs } from '../../../src/inputs/inputs.js'

// No Dockerfile anywhere: build: false must not need one.
const files: Record<string, string> = { 'docker-compose.yml': '' }
const context = (env: Record<string, string> = {}) => ({
  env: { GITHUB_SHA: 'abc123', ...env },
  isFile: (p: string) => p in files || (p === './Dockerfile' && 'Dockerfile' in env),
  readFile: () => ''
})
const read = (values: Record<string, string>) => (name: string) => values[name] ?? ''
const base = { stack: 'web', image: '10.77.0.1:5000/demo/app' }

describe('build input', () => {
  it('build: false deploys the first tag as it is, with no Dockerfile needed', () => {
    const inputs = getInputs(read({ ...base, build: 'false', tags: 'v1\nlatest' }), context())
    expect(inputs.image).toMatchObject({ repository: '10.77.0.1:5000/demo/app', tags: ['v1', 'latest'], build: false })
  })

  it('builds by default, and then needs the Dockerfile', () => {
    expect(getInputs(read(base), context({ Dockerfile: '1' })).image).toMatchObject({
      build: true,
      platforms: [],
      cache: { kind: 'auto', actionsCache: false }
    })
    expect(getInputs(read({ ...base, build: 'true' }), context({ Dockerfile: '1' })).image?.build).toBe(true)
    expect(() => getInputs(read(base), context())).toThrow(/^dockerfile: '.\/Dockerfile' does not exist/)
  })

  it.each([
    [{ build: 'false', 'build-args': 'A=1' }, /^build-args: is set but build is false: nothing is built$/],
    [{ build: 'false', cache: 'type=gha' }, /^cache: is set but build is false/],
    [{ build: 'false', platforms: 'linux/amd64' }, /^platforms: is set but build is false/],
    [{ build: 'maybe' }, /^build: 'maybe' is not a boolean/],
    [{ build: 'false', image: '' }, /^build: is false but image is empty: give the image whose tag to deploy$/],
    [{ cache: 'type=gha', image: '' }, /^cache: is set but image is empty/],
    [{ platforms: 'linux/amd64', image: '' }, /^platforms: is set but image is empty/]
  ])('rejects %p', (override, message) => {
    expect(() => getInputs(read({ ...base, ...override }), context({ Dockerfile: '1' }))).toThrow(message)
  })

  it('is a boolean flag of the CLI too', () => {
    const sources = { env: {}, readFile: () => undefined }
    expect(parseCommandLine(['--stack', 'web', '--no-build'], sources).read('build')).toBe('false')
    expect(parseCommandLine(['--stack', 'web', '--build', 'false'], sources).read('build')).toBe('false')
    expect(parseCommandLine(['--stack', 'web'], sources).read('build')).toBe('true')
    expect(parseCommandLine(['--stack', 'web', '--platforms', 'linux/amd64', '--cache', 'false'], sources).read('platforms')).toBe('linux/amd64')
  })

  it('an empty image with the default build: true deploys the compose file as it is', () => {
    expect(getInputs(read({ stack: 'web', build: 'true' }), context()).image).toBeUndefined()
  })
})

describe('cache input', () => {
  it('defaults to the Actions cache when the runner exposes one', () => {
    expect(getInputs(read(base), context({ Dockerfile: '1', ACTIONS_CACHE_URL: 'https://cache/' })).image?.cache).toEqual({ kind: 'auto', actionsCache: true })
    expect(getInputs(read(base), context({ Dockerfile: '1', ACTIONS_RESULTS_URL: 'https://results/' })).image?.cache).toEqual({
      kind: 'auto',
      actionsCache: true
    })
    expect(getInputs(read(base), context({ Dockerfile: '1' })).image?.cache).toEqual({ kind: 'auto', actionsCache: false })
  })

  it('reads off and passes anything else through', () => {
    expect(parseCache('cache', 'false', true)).toEqual({ kind: 'off' })
    expect(parseCache('cache', ' true ', false)).toEqual({ kind: 'auto', actionsCache: false })
    expect(parseCache('cache', 'type=registry,ref=ghcr.io/o/r:cache,mode=max', false)).toEqual({
      kind: 'given',
      value: 'type=registry,ref=ghcr.io/o/r:cache,mode=max'
    })
    expect(parseCache('cache', 'type=local,src=/tmp/c', false)).toEqual({ kind: 'given', value: 'type=local,src=/tmp/c' })
    expect(() => parseCache('cache', 'type=gha\ntype=local', false)).toThrow(/^cache: is not one BuildKit cache/)
  })
})

describe('platforms input', () => {
  it('reads a list separated by commas or newlines', () => {
    expect(parsePlatforms('platforms', 'linux/amd64,linux/arm64')).toEqual(['linux/amd64', 'linux/arm64'])
    expect(parsePlatforms('platforms', 'linux/amd64\nlinux/arm/v7\nlinux/amd64')).toEqual(['linux/amd64', 'linux/arm/v7'])
    expect(parsePlatforms('platforms', '')).toEqual([])
  })
  it.each(['amd64', 'linux/amd64;id', 'Linux/AMD64'])('rejects %p', text => {
    expect(() => parsePlatforms('platforms', text)).toThrow(/^platforms: '.*' is not a platform like linux\/amd64/)
  })
})

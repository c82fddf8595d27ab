// Inputs as users of other swarm actions write them (issue #21): bare
// seconds, the stack named after the repository, compose.yaml found as
// `docker compose` finds it, `env` as `${{ toJSON(secrets) }}`, profiles.
import { describe, expect, it } from '@jest/globals'
import { getInputs } from '../../../src/inputs/inputs.js'
import { parseDuration, stackNameOf } from '../../../src/inputs/parse.js'
import { secretsOf } from '../../../src/secrets.js'

const read = (values: Record<string, string>) => (name: string) => values[name] ?? ''
const contextWith = (files: Record<string, string>, env: Record<string, string> = {}) => ({
  env: { GITHUB_SHA: 'abc123', ...env },
  isFile: (p: string) => p in files,
  readFile: (p: string) => files[p]!
})
const compose = { 'docker-compose.yml': '' }

describe('durations', () => {
  it('take bare seconds as well as 90s, 5m or 1h', () => {
    expect(parseDuration('timeout', '120')).toBe(120_000)
    expect(parseDuration('timeout', ' 600 ')).toBe(600_000)
    expect(getInputs(read({ stack: 'web', timeout: '120' }), contextWith(compose)).timeoutMs).toBe(
      getInputs(read({ stack: 'web', timeout: '2m' }), contextWith(compose)).timeoutMs
    )
  })

  it.each(['0', '-5', '1.5', '5 parsecs'])('still refuse %p, naming both forms', text => {
    expect(() => parseDuration('timeout', text)).toThrow(/^timeout: '.*' is not a duration like 90s, 5m or 1h, or a number of seconds like 600$/)
  })
})

describe('stack', () => {
  it.each([
    ['acme/api', 'api'],
    ['Acme/My.Service', 'my-service'],
    ['acme/--Web__App--', 'web__app'],
    ['acme/' + 'x'.repeat(60), 'x'.repeat(50)],
    ['acme/a.-b', 'a-b']
  ])('defaults from GITHUB_REPOSITORY %p to %p', (repository, stack) => {
    expect(stackNameOf(repository)).toBe(stack)
    expect(getInputs(read({}), contextWith(compose, { GITHUB_REPOSITORY: repository })).stack).toBe(stack)
  })

  it('is still read when given, and required outside a repository', () => {
    expect(getInputs(read({ stack: 'web' }), contextWith(compose, { GITHUB_REPOSITORY: 'acme/api' })).stack).toBe('web')
    expect(() => getInputs(read({}), contextWith(compose))).toThrow(
      /^stack: is required \(outside a GitHub workflow, where GITHUB_REPOSITORY names the default\)$/
    )
    expect(() => getInputs(read({}), contextWith(compose, { GITHUB_REPOSITORY: 'acme/...' }))).toThrow(/^stack: is required: the repository's name/)
  })
})

describe('compose-file', () => {
  it.each([
    [['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'], 'compose.yaml'],
    [['compose.yml', 'docker-compose.yml'], 'compose.yml'],
    [['docker-compose.yml', 'docker-compose.yaml'], 'docker-compose.yml'],
    [['docker-compose.yaml'], 'docker-compose.yaml']
  ])('defaults to the first file docker compose looks for, of %p', (present, chosen) => {
    const files = Object.fromEntries(present.map(name => [name, '']))
    expect(getInputs(read({ stack: 'web' }), contextWith(files)).composeFiles).toEqual([chosen])
  })

  it('says which names it looked for when there is none', () => {
    expect(() => getInputs(read({ stack: 'web' }), contextWith({}))).toThrow(
      'compose-file: not given, and there is no compose.yaml, compose.yml, docker-compose.yml or docker-compose.yaml in the working directory'
    )
  })
})

describe('env as JSON (${{ toJSON(secrets) }})', () => {
  const json = JSON.stringify({ github_token: 'ghs_0123456789abcdef', DB_PASSWORD: 'hunter2-long-enough', PATH: '/evil', 'not a name': 'x', COUNT: 3 }, null, 2)

  it('keeps every string value under a variable name, and says it came as JSON', () => {
    const inputs = getInputs(read({ stack: 'web', env: json }), contextWith(compose))
    expect([...inputs.env]).toEqual([
      ['github_token', 'ghs_0123456789abcdef'],
      ['DB_PASSWORD', 'hunter2-long-enough']
    ])
    expect(inputs.envJson).toEqual({ given: 5 })
  })

  it('is masked value by value before anything parses it', () => {
    expect(secretsOf(read({ env: json })).map(s => s.value)).toEqual(expect.arrayContaining(['ghs_0123456789abcdef', 'hunter2-long-enough', '/evil', 'x']))
    // No name of a JSON value is given to a warning: most of them are never used.
    expect(secretsOf(read({ env: json })).map(s => s.name)).toEqual(['env', 'env', 'env', 'env'])
  })

  it('is refused when it is not an object of strings, without echoing it', () => {
    expect(() => getInputs(read({ stack: 'web', env: '{"A": "sec' }), contextWith(compose))).toThrow(/^env: starts with \{ but is not a JSON object/)
    expect(() => getInputs(read({ stack: 'web', env: '["x"]' }), contextWith(compose))).toThrow(/^env: line 1 has no '='/)
  })

  it('lines stay as they are', () => {
    expect(getInputs(read({ stack: 'web', env: 'A=1' }), contextWith(compose)).envJson).toBeUndefined()
  })
})

describe('profiles', () => {
  it('are read one per line or comma-separated, none by default', () => {
    expect(getInputs(read({ stack: 'web' }), contextWith(compose)).profiles).toEqual([])
    expect(getInputs(read({ stack: 'web', profiles: 'debug, tools\nmetrics' }), contextWith(compose)).profiles).toEqual(['debug', 'tools', 'metrics'])
    expect(() => getInputs(read({ stack: 'web', profiles: 'no/slash' }), contextWith(compose))).toThrow(/^profiles: 'no\/slash' is not a profile name/)
  })
})

describe('.env', () => {
  it('beside the first compose file is read as data, not as secrets', () => {
    const files = { 'deploy/compose.yaml': '', 'deploy/.env': 'GREETING=hello\n' }
    const inputs = getInputs(read({ stack: 'web', 'compose-file': 'deploy/compose.yaml' }), contextWith(files))
    expect([...inputs.dotenv!]).toEqual([['GREETING', 'hello']])
    expect(inputs.env.size).toBe(0)
    expect(getInputs(read({ stack: 'web' }), contextWith(compose)).dotenv!.size).toBe(0)
  })
})

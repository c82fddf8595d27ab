// What reaches the environment of each child the run starts (#18): AWS_*
// only for a credential helper, and the deploy child only the values its
// compose files read: never the runner's tokens, whatever env-passthrough says.
import { describe, expect, it } from '@jest/globals'
import type { CliOptions, DockerCli } from '../../../src/ports.js'
import { childEnvironment, credentialHelperEnvironment } from '../../../src/docker-cli.js'
import { deployStack, deployVariables, interpolationValues } from '../../../src/deploy/stack-deploy.js'
import { runDeploy } from '../../../src/engine.js'
import { COMPOSE, fakeWorld, inputsFor, recordingReporter } from '../../support/fake-world.js'

// What a runner's environment holds, as GitHub's runner and configure-aws-credentials set it.
const RUNNER = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/runner',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'aws-secret-access-key-value',
  AWS_SESSION_TOKEN: 'aws-session-token-value',
  GITHUB_TOKEN: 'ghs_jobtokenjobtokenjobtokenjobtoken00',
  GH_TOKEN: 'ghs_jobtokenjobtokenjobtokenjobtoken00',
  GITHUB_SHA: 'abc123',
  ACTIONS_RUNTIME_TOKEN: 'runtime-token-value',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token-value',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.actions.example/oidc?sig=abc',
  ACTIONS_CACHE_URL: 'https://cache.actions.example/sig',
  'INPUT_SSH-KEY': 'ssh-private-key-value',
  'INPUT_REGISTRY-PASSWORD': 'registry-password-value',
  STATE_leftovers: '{"paths":[]}',
  SWARM_DEPLOY_REGISTRY_PASSWORD: 'cli-registry-password',
  RUNNER_TEMP: '/home/runner/work/_temp',
  GREETING: 'hello'
}

describe('docker children', () => {
  it('get no AWS credentials: only a credential helper run by the action does', () => {
    const env = childEnvironment(RUNNER)
    expect(Object.keys(env).filter(name => name.startsWith('AWS_'))).toEqual([])
    expect(credentialHelperEnvironment(RUNNER)).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/runner',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'aws-secret-access-key-value',
      AWS_SESSION_TOKEN: 'aws-session-token-value'
    })
  })
})

describe('env-passthrough: true', () => {
  it("lets through the runner's variables but never its tokens, the action's inputs or state", () => {
    const values = interpolationValues(new Map([['DB_PASSWORD', 'db']]), 'all', RUNNER)
    for (const name of [
      'GITHUB_TOKEN',
      'GH_TOKEN',
      'ACTIONS_RUNTIME_TOKEN',
      'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
      'ACTIONS_ID_TOKEN_REQUEST_URL',
      'ACTIONS_CACHE_URL',
      'INPUT_SSH-KEY',
      'INPUT_REGISTRY-PASSWORD',
      'STATE_leftovers',
      'SWARM_DEPLOY_REGISTRY_PASSWORD'
    ])
      expect([name, values.has(name)]).toEqual([name, false])
    expect(values.get('GITHUB_SHA')).toBe('abc123')
    expect(values.get('GREETING')).toBe('hello')
    expect(values.get('DB_PASSWORD')).toBe('db')
  })

  it('lets a named GITHUB_TOKEN through, and refuses a named ACTIONS_* variable as bad input', () => {
    expect(interpolationValues(new Map(), ['GITHUB_TOKEN'], RUNNER).get('GITHUB_TOKEN')).toBe(RUNNER.GITHUB_TOKEN)
    expect(() => interpolationValues(new Map(), ['GREETING', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'], RUNNER)).toThrow(
      /^env-passthrough: ACTIONS_ID_TOKEN_REQUEST_TOKEN: the runner's ACTIONS_\* variables are its own tokens/
    )
  })
})

describe('the docker stack deploy child', () => {
  const compose = [{ path: '/w/docker-compose.yml', text: COMPOSE }]

  it('gets only the values the compose files read', () => {
    const variables = new Map([
      ['IMAGE', 'registry/x:v1@sha256:' + 'ab'.repeat(32)],
      ['DB_PASSWORD', 'db'],
      ['GREETING', 'hello'],
      ['AWS_SECRET_ACCESS_KEY', 'aws-secret-access-key-value']
    ])
    expect([...deployVariables(variables, compose).keys()].sort()).toEqual(['DB_PASSWORD', 'IMAGE'])
  })

  it('is started with them and DOCKER_HOST alone', async () => {
    const seen: Array<Record<string, string> | undefined> = []
    const cli: DockerCli = {
      run: async (_args: string[], options: CliOptions = {}) => (seen.push(options.env), { code: 0, stdout: '', stderr: '', timedOut: false })
    }
    const files = new Map<string, string>()
    await deployStack(
      cli,
      { ensureObject: async () => 'created', networks: async () => [], addressPool: async () => ({ pools: ['10.0.0.0/8'], size: 24, defaulted: true }) },
      {
        stack: 'shop',
        composeFiles: ['/w/docker-compose.yml'],
        prune: false,
        variables: new Map([
          ['IMAGE', 'img'],
          ['DB_PASSWORD', 'db'],
          ['GITHUB_TOKEN', RUNNER.GITHUB_TOKEN]
        ]),
        secretKey: Buffer.alloc(32),
        deadline: Date.now() + 60_000
      },
      compose,
      '/tmp/sd-x/docker.sock',
      {
        files: { read: () => undefined, write: async (file, text) => void files.set(file, text), remove: async file => void files.delete(file) },
        leftovers: { path: () => () => undefined, processGroup: () => () => undefined },
        now: () => Date.now(),
        info: () => undefined
      }
    )
    expect(seen).toEqual([{ IMAGE: 'img', DB_PASSWORD: 'db', DOCKER_HOST: 'unix:///tmp/sd-x/docker.sock' }])
  })

  it("gets none of the runner's tokens through the engine with env-passthrough: true", async () => {
    const fake = fakeWorld({ env: RUNNER })
    fake.files.set('docker-compose.yml', COMPOSE)
    const seen: Array<Record<string, string> | undefined> = []
    const adapters = {
      ...fake.adapters,
      dockerCli: (...args: Parameters<typeof fake.adapters.dockerCli>) => {
        const cli = fake.adapters.dockerCli(...args)
        return { run: (argv: string[], options?: CliOptions) => (argv[1] === 'deploy' && seen.push(options?.env), cli.run(argv, options)) }
      }
    }
    const outcome = await runDeploy(inputsFor({ passthrough: 'all' }), fake.host, adapters, recordingReporter())
    expect(outcome.status).toBe('converged')
    expect(Object.keys(seen[0] ?? {}).sort()).toEqual(['DB_PASSWORD', 'DOCKER_HOST', 'IMAGE'])
  })
})

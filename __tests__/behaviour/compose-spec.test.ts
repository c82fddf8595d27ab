// Compose files written for `docker compose`, through the whole engine with
// fakes: the merge comes first, before any side effect; the merged text (the
// plugin's real output, __tests__/fixtures/compose-spec) is what the deploy,
// the record and the checks read, written only into the run's work dir.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { runDeploy } from '../../src/engine.js'
import type { Inputs } from '../../src/inputs/inputs.js'
import type { CliOptions, CliResult } from '../../src/ports.js'
import { fakeWorld, inputsFor, recordingReporter, STACK } from '../support/fake-world.js'
import type { WorldOptions } from '../support/fake-world.js'

const EXAMPLE = path.resolve('examples/compose-spec')
const MERGED = readFileSync(path.resolve('__tests__/fixtures/compose-spec/example.normalised.yaml'), 'utf8')
const GREETING = 'hello-from-dotenv'

/** The fake world, with the Compose plugin answering as compose 2.40.3 did, or missing. */
async function deploy(plugin: 'present' | 'missing', overrides: Partial<Inputs> = {}, world: WorldOptions = {}, merged = MERGED) {
  const fake = fakeWorld(world)
  for (const name of ['compose.yaml', 'workers.yaml', 'common.yaml']) fake.files.set(name, readFileSync(path.join(EXAMPLE, name), 'utf8'))
  const composeCalls: string[][] = []
  const ok = (stdout: string): CliResult => ({ code: 0, stdout, stderr: '', timedOut: false })
  const adapters = {
    ...fake.adapters,
    dockerCli: (...args: Parameters<typeof fake.adapters.dockerCli>) => {
      const cli = fake.adapters.dockerCli(...args)
      return {
        run: async (argv: string[], options?: CliOptions): Promise<CliResult> => {
          if (argv[0] !== 'compose') return cli.run(argv, options)
          composeCalls.push(argv)
          fake.effects.push(`docker ${argv.slice(0, 2).join(' ')}`)
          if (plugin === 'missing') return { code: 1, stdout: '', stderr: 'docker: unknown command: docker compose\n', timedOut: false }
          return ok(argv[1] === 'version' ? '2.40.3-3\n' : merged)
        }
      }
    }
  }
  const reporter = recordingReporter()
  const inputs = inputsFor({
    composeFiles: ['compose.yaml'],
    image: undefined,
    registry: undefined,
    dotenv: new Map([
      ['GREETING', GREETING],
      ['BASE_IMAGE', 'registry.example.com:5000/base:1']
    ]),
    ...overrides
  })
  const outcome = await runDeploy(inputs, fake.host, adapters, reporter)
  return { ...fake, reporter, outcome, composeCalls }
}

describe('compose files that need docker compose', () => {
  it('without the plugin, stop before any side effect, saying what uses it and what to install', async () => {
    const { outcome, effects } = await deploy('missing')
    expect(outcome.stopped?.kind).toBe('input')
    expect(outcome.stopped?.message).toContain('compose-file: include: in compose.yaml line 6, extends: (service web) in compose.yaml line 10')
    expect(outcome.stopped?.message).toContain("the runner's docker has no Compose plugin")
    expect(outcome.stopped?.message).toContain('Nothing was deployed.')
    expect(effects).toEqual(['docker compose version'])
  })

  it('are merged first, and everything after reads the merged text, written only in the work dir', async () => {
    const { outcome, effects, composeCalls, deployEnvs, reporter, configs, files, host } = await deploy('present')
    expect(outcome.stopped).toBeUndefined()
    expect(effects.slice(0, 3)).toEqual(['docker compose version', 'docker compose --env-file', 'connect'])
    expect(composeCalls[1]).toEqual(expect.arrayContaining(['--file', 'compose.yaml', '--no-interpolate', '--no-normalize']))
    expect(reporter.lines()).toContain('Compose files merged by docker compose 2.40.3-3 (include:, extends:, profiles:): services web, worker')
    expect(reporter.lines()).toContain('Not deployed, no profile of theirs enabled (the profiles input): debug')
    const merged = [...files.keys()].filter(file => file.includes('merged-compose'))
    expect(merged).toHaveLength(1)
    expect(merged[0]!.startsWith(path.join(host.tempDir, 'sd-'))).toBe(true)
    expect(files.get(merged[0]!)).not.toContain(GREETING)
    // The deploy read the merged file from the work dir; .env's values reached it as variables, not as text.
    expect(deployEnvs).toHaveLength(1)
    expect(deployEnvs[0]).toMatchObject({ GREETING, BASE_IMAGE: 'registry.example.com:5000/base:1' })
    // The release record holds the merged text, references and all, and no value.
    const record = [...configs.values()].find(c => c.name === `${STACK}_release_1`)!
    const data = JSON.parse(record.data.toString('utf8')) as { compose: Array<{ text: string }>; variables: string[] }
    expect(data.compose).toHaveLength(1)
    expect(data.compose[0]!.text).toContain('GREETING: ${GREETING}')
    expect(data.compose[0]!.text).not.toContain(GREETING)
    expect(data.compose[0]!.text).not.toContain('debug')
    expect(data.variables).toEqual(expect.arrayContaining(['BASE_IMAGE', 'GREETING']))
  })

  it('roll back from the merged text the release recorded, with no plugin', async () => {
    // The fake swarm runs one service, web, with no secret: the merge gives just that.
    const web = 'services:\n  web:\n    environment:\n      GREETING: ${GREETING}\n    image: ${BASE_IMAGE}\n'
    const first = await deploy('present', {}, {}, web)
    const back = await deploy('missing', { rollback: { kind: 'number', number: 1 } }, { configs: [...first.configs.values()] })
    expect(back.outcome.stopped).toBeUndefined()
    expect(back.composeCalls).toEqual([])
    expect(back.deployEnvs[0]).toMatchObject({ GREETING })
  })

  it('with a profile enabled, deploy its services too', async () => {
    const { reporter } = await deploy('present', { profiles: ['debug'] })
    expect(reporter.lines()).toContain('services debug, web, worker')
  })
})

describe('env as JSON', () => {
  it('lets only the names the compose files read reach compose, and names no other', async () => {
    const env = new Map([
      ['DB_PASSWORD', 'db-password-from-json'],
      ['UNUSED_API_TOKEN', 'unused-token-value'],
      ['github_token', 'ghs_unused0123456789']
    ])
    const { outcome, deployEnvs, reporter } = await deploy('present', { env, envJson: { given: 4 } })
    expect(outcome.stopped).toBeUndefined()
    expect(reporter.lines()).toContain('env: 4 values given as JSON, 1 used by the compose files (DB_PASSWORD); only those reach compose')
    expect(Object.keys(deployEnvs[0]!).filter(name => env.has(name))).toEqual(['DB_PASSWORD'])
    const said = reporter.events
      .filter(e => e.kind !== 'secret')
      .map(e => e.text)
      .join('\n')
    for (const name of ['UNUSED_API_TOKEN', 'github_token', 'unused-token-value', 'ghs_unused0123456789']) expect(said).not.toContain(name)
  })
})

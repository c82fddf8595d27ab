// Compose files as people write them for `docker compose` (issue #21),
// through the Action bundle on the lab: compose.yaml with no version:, an
// include:, services extended from a common file, a debug service behind a
// profile, and a .env that sets a non-secret variable. No compose-file and no
// stack input (the stack is named after GITHUB_REPOSITORY); timeout in bare
// seconds; env as `${{ toJSON(secrets) }}` JSON. The merged file in the run's
// work dir and the release record hold `${VAR}` references, never values.
// Before the lab: the docker CLI's own loader reads what the merge makes of
// the plugin's recorded output as it reads the original.
import { afterAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as YAML from 'yaml'
import { stackForm } from '../../src/deploy/compose-spec.js'
import { lockTtlMs } from '../../src/lock/lock.js'
import type { StackPlan } from '../../src/preview/stack-plan.js'
import type { Lab } from './harness.js'
import { docker, expectVerdict, leaks, loadLab, removeStack, ROOT, runAction, sshInputs, startAction } from './harness.js'
import { releaseRecord, watchRun } from './support/compose.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
// GITHUB_REPOSITORY `acme/Compose.Spec-<run>` names the stack `compose-spec-<run>`.
const REPOSITORY = `acme/Compose.Spec-${run}`
const STACK = `compose-spec-${run}`
const lab: Lab = loadLab()
const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-compose-'))
const project = path.join(dir, 'project')
cpSync(path.join(ROOT, 'examples/compose-spec'), project, { recursive: true })
const GREETING = `greeting-${run}-from-dotenv`
const BASE_IMAGE = `${lab.registry}/${lab.baseImage}`
writeFileSync(path.join(project, '.env'), `# Not secret: the repository holds it.\nGREETING=${GREETING}\nBASE_IMAGE=${BASE_IMAGE}\n`)
const SECRETS = { DB_PASSWORD: `db-${run}-password-from-json`, UNUSED_API_TOKEN: `unused-${run}-token-value`, github_token: `ghs_${run}unused0123456789` }

afterAll(async () => {
  await removeStack(lab, STACK)
  rmSync(dir, { recursive: true, force: true })
})

/** The connection, the registry the workers pull from, and nothing about the compose files. */
const inputs = (more: Record<string, string> = {}): Record<string, string> => ({
  ...sshInputs(lab),
  registry: lab.registry,
  'registry-username': lab.registryUser,
  'registry-password': lab.registryPassword,
  env: JSON.stringify(SECRETS, null, 2),
  ...more
})
const options = (runnerTemp?: string) => ({ cwd: project, env: { GITHUB_REPOSITORY: REPOSITORY, ...(runnerTemp ? { RUNNER_TEMP: runnerTemp } : {}) } })
const stackServices = (): string[] =>
  docker(lab, ['service', 'ls', '--filter', `label=com.docker.stack.namespace=${STACK}`, '--format', '{{.Name}}'])
    .trim()
    .split('\n')
    .filter(Boolean)
    .sort()
const planned = (plan: string): Array<[string, string]> =>
  (JSON.parse(plan) as StackPlan).services.map(s => [s.name, s.action] as [string, string]).sort((a, b) => a[0].localeCompare(b[0]))

describe('the merged compose file', () => {
  // The plugin's output as recorded, moved to a folder that has the files it names.
  const sample = path.join(dir, 'short-forms')
  const fixtures = path.join(ROOT, '__tests__/fixtures/compose-spec')
  cpSync(path.join(fixtures, 'short-forms.compose.yaml'), path.join(sample, 'compose.yml'))
  for (const file of ['e.env', 'c.txt', 'Dockerfile']) writeFileSync(path.join(sample, file), '')
  const stackConfig = (file: string): unknown =>
    YAML.parse(
      execFileSync('docker', ['stack', 'config', '--compose-file', file], { cwd: sample, env: { PATH: process.env.PATH ?? '', HOME: dir }, encoding: 'utf8' })
    )

  // compose makes every path absolute and writes out empty option maps; the loader leaves both as they were.
  const comparable = (value: unknown, key = ''): unknown => {
    if (typeof value === 'string' && ['context', 'env_file'].includes(key)) return path.resolve(sample, value)
    if (Array.isArray(value)) return value.map(item => comparable(item, key))
    if (value === null || typeof value !== 'object') return value
    const entries = Object.entries(value).filter(([, v]) => !(v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0))
    return Object.fromEntries(entries.map(([k, v]) => [k, comparable(v, k)]))
  }

  it('reads to the docker CLI as the original does', () => {
    const merged = readFileSync(path.join(fixtures, 'short-forms.normalised.yaml'), 'utf8').replaceAll('/tmp/cx/q', sample)
    writeFileSync(path.join(sample, 'merged.yml'), stackForm(merged, [], () => true).text)
    expect(comparable(stackConfig('merged.yml'))).toEqual(comparable(stackConfig('compose.yml')))
  })
})

// The runner's docker finds the plugin in a system folder whatever DOCKER_CONFIG says
// (the lab gives it one on engine 28, none on 20.10, where the other path is shown).
const plugin = spawnSync('docker', ['compose', 'version'], { env: { PATH: process.env.PATH ?? '', HOME: dir }, encoding: 'utf8' })
const withPlugin = plugin.status === 0 ? it : it.skip
const withoutPlugin = plugin.status === 0 ? it.skip : it
if (plugin.status !== 0) console.log('The runner has no Compose plugin: the merge tests are skipped, and the refusal is tested instead.')

describe('a compose.yaml project on a runner without the Compose plugin', () => {
  withoutPlugin('stops before logging in or connecting, naming what to install, with nothing deployed', async () => {
    const result = await runAction(lab, inputs(), options())
    expect(result.code).not.toBe(0)
    expect(result.log).toContain("the runner's docker has no Compose plugin")
    expect(result.log).toContain('Nothing was deployed')
    expect(result.log).not.toContain('docker login')
    expect(stackServices()).toEqual([])
  })
})

describe('a compose.yaml project on the lab', () => {
  withPlugin('previews and deploys the same services, named after the repository, with references only in what it writes', async () => {
    // The preview of a stack not there yet: every service a create, the debug one left out.
    const preview = await runAction(lab, inputs({ 'dry-run': 'true' }), options())
    expect(preview.code).toBe(0)
    expect(planned(preview.outputs.plan!)).toEqual([
      ['web', 'create'],
      ['worker', 'create']
    ])
    expect(preview.log).toContain('Compose files merged by docker compose')
    // What Swarm ignores is still said, from the merged text.
    const warnings = (JSON.parse(preview.outputs.plan!) as StackPlan).warnings.join('\n')
    expect(warnings).toMatch(/service web: restart \(use deploy\.restart_policy\), depends_on \(Swarm starts services in no order/)

    const runnerTemp = path.join(dir, 'runner-temp')
    const watch = watchRun(lab, runnerTemp, STACK)
    const result = await startAction(lab, inputs({ timeout: '120' }), options(runnerTemp)).done
    const seen = await watch.stop()
    expectVerdict(result, 0, 'converged')
    expect(stackServices()).toEqual([`${STACK}_web`, `${STACK}_worker`])

    // .env's value reached the service by interpolation, not through the file.
    const web = JSON.parse(docker(lab, ['service', 'inspect', `${STACK}_web`])) as Array<{ Spec: { TaskTemplate: { ContainerSpec: { Env: string[] } } } }>
    expect(web[0]!.Spec.TaskTemplate.ContainerSpec.Env).toContain(`GREETING=${GREETING}`)

    // The merged file was in the run's work dir, with references only; nothing there ever held a value.
    const merged = [...seen.files].filter(([file]) => path.basename(file).startsWith('merged-compose'))
    expect(merged).toHaveLength(1)
    expect(merged[0]![1]).toContain('GREETING: ${GREETING}')
    expect(merged[0]![1]).toContain('image: ${BASE_IMAGE}')
    expect(leaks([GREETING, BASE_IMAGE, ...Object.values(SECRETS)], Object.fromEntries(seen.files))).toEqual([])
    const record = await releaseRecord(lab, STACK, 1)
    expect(record.compose.map(file => file.text).join('\n')).toContain('GREETING: ${GREETING}')
    expect(leaks([GREETING, BASE_IMAGE, ...Object.values(SECRETS)], { record: JSON.stringify(record) })).toEqual([])

    // timeout: 120 is two minutes: the lock is held for the round it bounds.
    expect(Date.parse(seen.lock!.expires) - Date.parse(seen.lock!.taken)).toBe(lockTtlMs(120_000, 'swarm'))

    // Only the names the compose files read are used; the others are counted, never named, and no value is logged.
    expect(result.log).toContain('env: 3 values given as JSON, 1 used by the compose files (DB_PASSWORD); only those reach compose')
    expect(leaks(['UNUSED_API_TOKEN', 'github_token', ...Object.values(SECRETS)], { log: result.log, summary: result.summary })).toEqual([])
  })

  withPlugin('deploys the debug service only with profiles: debug, which the preview lists too', async () => {
    const preview = await runAction(lab, inputs({ 'dry-run': 'true', profiles: 'debug' }), options())
    expect(preview.code).toBe(0)
    expect(planned(preview.outputs.plan!)).toEqual([
      ['debug', 'create'],
      ['web', 'unchanged'],
      ['worker', 'unchanged']
    ])
    const result = await runAction(lab, inputs({ profiles: 'debug' }), options())
    expectVerdict(result, 0, 'converged')
    expect(stackServices()).toEqual([`${STACK}_debug`, `${STACK}_web`, `${STACK}_worker`])
  })

  withPlugin('rolls back to the first release from its record, merging nothing', async () => {
    const result = await runAction(lab, inputs({ rollback: '1' }), options())
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain('Rolling back to release #1')
    expect(result.log).not.toContain('Compose files merged')
  })
})

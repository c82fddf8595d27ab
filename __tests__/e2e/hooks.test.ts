// Deploy hooks and waves on the lab swarm (docs/hooks.md): a pre-deploy job
// that runs before web changes and reads the secret this deploy created; one
// that exits 3 and stops the deploy with nothing else changed; rollbacks that
// skip the hook unless hooks-on-rollback; a dry run that lists the steps; and
// waves 0, 1, 2 where wave 1 fails its healthcheck and wave 2 is untouched.
// Compose files: examples/hooks. Nothing is built: two images pushed once.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as path from 'node:path'
import type { Lab } from './harness.js'
import { docker, expectVerdict, loadLab, pushImage, releaseRecords, removeStack, ROOT, runAction, sshInputs } from './harness.js'

jest.setTimeout(300_000)

const HOOKS = path.join(ROOT, 'examples/hooks')
const run = Date.now().toString(36)
const STACK = `e2e-hk-${run}`
const WAVES = `e2e-hkw-${run}`
const DB_PASSWORD = `hk-pw-${run}-secret`

let lab: Lab
let repository: string

beforeAll(() => {
  lab = loadLab()
  repository = `${lab.registry}/e2e/hooks-app`
  for (const version of ['1', '2']) pushImage(lab, `${repository}:v${version}-${run}`, [`FROM ${lab.baseImage}`, `ENV APP_VERSION=${version}`])
})

afterAll(async () => {
  for (const stack of [STACK, WAVES]) await removeStack(lab, stack)
})

function inputs(stack: string, file: string, version: string, extra: Record<string, string> = {}): Record<string, string> {
  const { env, ...rest } = extra
  return {
    ...sshInputs(lab),
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    stack,
    'compose-file': file,
    image: repository,
    tags: `v${version}-${run}`,
    build: 'false',
    env: [`DB_PASSWORD=${DB_PASSWORD}`, ...(env ? [env] : [])].join('\n'),
    timeout: '2m',
    ...rest
  }
}

const hookInputs = (version: string, extra: Record<string, string> = {}) => inputs(STACK, 'stack.yml', version, extra)

interface SwarmTask {
  ID: string
  CreatedAt: string
  Status: { State: string; Timestamp: string; ContainerStatus?: { ExitCode?: number } }
}

/** The tasks of a service, oldest first. */
function tasksOf(service: string): SwarmTask[] {
  const ids = docker(lab, ['service', 'ps', service, '-q', '--no-trunc']).trim().split('\n').filter(Boolean)
  if (ids.length === 0) return []
  return (JSON.parse(docker(lab, ['inspect', ...ids])) as SwarmTask[]).sort((a, b) => a.CreatedAt.localeCompare(b.CreatedAt))
}

interface Inspected {
  Version: { Index: number }
  Spec: { TaskTemplate: { ContainerSpec: { Image: string; Secrets?: Array<{ SecretName: string }> } } }
  UpdateStatus?: { State?: string; StartedAt?: string }
}
const inspect = (service: string): Inspected => (JSON.parse(docker(lab, ['service', 'inspect', service])) as Inspected[])[0]!
const imageOf = (service: string): string => inspect(service).Spec.TaskTemplate.ContainerSpec.Image

describe('a pre-deploy hook', () => {
  it('runs before web changes, reading the secret this deploy created, then web converges on the new image', async () => {
    const first = await runAction(lab, hookInputs('1'), { cwd: HOOKS })
    expectVerdict(first, 0, 'converged')
    const second = await runAction(lab, hookInputs('2'), { cwd: HOOKS })
    expectVerdict(second, 0, 'converged')
    expect(imageOf(`${STACK}_web`)).toContain(`:v2-${run}@sha256:`)

    // The hook ran on each deploy, reading the secret the deploy created (its versioned name).
    const hook = inspect(`${STACK}_migrate`)
    expect(hook.Spec.TaskTemplate.ContainerSpec.Secrets?.[0]?.SecretName).toMatch(new RegExp(`^${STACK}_db_password_[0-9a-f]{10}$`))
    const runs = tasksOf(`${STACK}_migrate`)
    expect(runs.map(t => [t.Status.State, t.Status.ContainerStatus?.ExitCode])).toEqual([
      ['complete', 0],
      ['complete', 0]
    ])
    // Swarm's own timestamps: the second run's task finished before web's update started.
    const web = inspect(`${STACK}_web`)
    expect(web.UpdateStatus?.State).toBe('completed')
    expect(Date.parse(runs[1]!.Status.Timestamp)).toBeLessThan(Date.parse(web.UpdateStatus!.StartedAt!))
    expect(second.log).toMatch(/pre-deploy hook migrate: converged after \d+s/)
    expect(second.summary).toContain('### Hooks and waves')
    expect(second.summary).toMatch(/\| pre-deploy hook migrate \| \d+s \| ✅ converged \|\n\| wave 0 \(web\) \| \d+s \| ✅ converged \|/)

    // The same deploy again: the hook runs again, and the deploy waits for that run (its spec has the run's ID).
    const again = await runAction(lab, hookInputs('2'), { cwd: HOOKS })
    expectVerdict(again, 0, 'converged')
    expect(tasksOf(`${STACK}_migrate`).map(t => t.Status.State)).toEqual(['complete', 'complete', 'complete'])
    expect(again.log).toMatch(/migrate: updated, 1\/1 complete/)
  })

  it('that exits 3 fails the deploy at once, naming the hook, the exit code and its log; every other service keeps its spec', async () => {
    const web = inspect(`${STACK}_web`)
    const result = await runAction(lab, hookInputs('1', { env: 'MIGRATE_EXIT=3' }), { cwd: HOOKS })
    expectVerdict(result, 'non-zero', 'failed')
    // Failed on the job's exit, not at the 2-minute deadline.
    expect(result.seconds).toBeLessThan(60)
    const summary = result.log.split('\n').find(l => l.includes('did not complete'))
    expect(summary).toContain('pre-deploy hook migrate did not complete (exit code 3 on ')
    expect(summary).toContain('last log lines: migrating | secret read | exiting with 3')
    expect(summary).toContain('Nothing else of the stack was changed')
    expect(summary).toContain('Not run: wave 0 (web)')
    // web: the same spec, at the same version.
    expect(inspect(`${STACK}_web`).Version.Index).toBe(web.Version.Index)
    expect(imageOf(`${STACK}_web`)).toBe(web.Spec.TaskTemplate.ContainerSpec.Image)
    // Recorded failed; the hook's service is kept with its failed task.
    expect(releaseRecords(lab, STACK).at(-1)).toEqual({ number: 4, status: 'failed' })
    expect(tasksOf(`${STACK}_migrate`).at(-1)?.Status.ContainerStatus?.ExitCode).toBe(3)
    expect(result.summary).toMatch(/\| wave 0 \(web\) \| – \| – not run \|/)
  })

  it('is skipped by rollback: previous, and run by a rollback with hooks-on-rollback: true', async () => {
    // Releases: #1 v1, #2 v2, #3 v2 again (live), #4 the failed one: previous is #2.
    const before = tasksOf(`${STACK}_migrate`).length
    const back = await runAction(lab, hookInputs('2', { rollback: 'previous' }), { cwd: HOOKS })
    expectVerdict(back, 0, 'converged')
    expect(back.log).toContain('Rolling back to release #2')
    expect(back.log).toContain('Skipping the pre-deploy hook migrate: this is a rollback (set hooks-on-rollback: true to run them)')
    expect(tasksOf(`${STACK}_migrate`)).toHaveLength(before)
    expect(back.summary).toMatch(/\| rollback to #2: pre-deploy hook migrate \| – \| ⏭️ skipped \|/)

    const withHooks = await runAction(lab, hookInputs('2', { rollback: '1', 'hooks-on-rollback': 'true' }), { cwd: HOOKS })
    expectVerdict(withHooks, 0, 'converged')
    expect(imageOf(`${STACK}_web`)).toContain(`:v1-${run}@sha256:`)
    const runs = tasksOf(`${STACK}_migrate`)
    expect(runs).toHaveLength(before + 1)
    expect(runs.at(-1)!.Status.State).toBe('complete')
    expect(withHooks.summary).toMatch(/\| rollback to #1: pre-deploy hook migrate \| \d+s \| ✅ converged \|/)
  })

  it('is listed by dry-run, in order, with the wave, and nothing changes', async () => {
    const services = docker(lab, ['service', 'ls', '--filter', `label=com.docker.stack.namespace=${STACK}`, '--format', '{{.ID}}'])
    const versions = services
      .trim()
      .split('\n')
      .map(id => inspect(id).Version.Index)
    const tasks = tasksOf(`${STACK}_migrate`).length
    const result = await runAction(lab, hookInputs('2', { 'dry-run': 'true' }), { cwd: HOOKS })
    expect(result.code).toBe(0)
    expect(result.log).toMatch(/Steps, in order:\n\s*1\. pre-deploy hook migrate: migrate runs\n\s*2\. wave 0 \(web\): web update/)
    expect(result.summary).toContain('### Hooks and waves, in order')
    expect(result.summary).toMatch(/1\. pre-deploy hook migrate: migrate runs\n2\. wave 0 \(web\): web update/)
    expect(
      services
        .trim()
        .split('\n')
        .map(id => inspect(id).Version.Index)
    ).toEqual(versions)
    expect(tasksOf(`${STACK}_migrate`)).toHaveLength(tasks)
  })
})

describe('waves', () => {
  it('stop at wave 1 when its healthcheck fails: wave 2 is unchanged and the verdict names wave 1', async () => {
    const first = await runAction(lab, inputs(WAVES, 'waves.yml', '1'), { cwd: HOOKS })
    expectVerdict(first, 0, 'converged')
    expect(first.log).toMatch(/Deploy the wave 0 \(db\)[\s\S]*Deploy the wave 1 \(api\)[\s\S]*Deploy stack [^\n]*: wave 2 \(web\)/)
    const web = inspect(`${WAVES}_web`)

    const second = await runAction(lab, inputs(WAVES, 'waves.yml', '2', { env: 'API_HEALTHY=no' }), { cwd: HOOKS })
    expect(second.code).not.toBe(0)
    expect(['failed', 'rolled-back']).toContain(second.outputs.status)
    // wave 0 moved on; wave 1 did not converge; wave 2 was never deployed.
    expect(imageOf(`${WAVES}_db`)).toContain(`:v2-${run}@sha256:`)
    expect(inspect(`${WAVES}_web`).Version.Index).toBe(web.Version.Index)
    expect(imageOf(`${WAVES}_web`)).toContain(`:v1-${run}@sha256:`)
    const verdict = second.log.split('\n').find(l => l.includes(' at wave 1 (api): '))
    expect(verdict).toBeDefined()
    expect(verdict).toContain(`${WAVES}_api`)
    expect(verdict).toContain('Not run: wave 2 (web).')
    expect(second.summary).toMatch(/\| wave 0 \(db\) \| \d+s \| ✅ converged \|\n\| wave 1 \(api\) \| \d+s \| [^|]+ \|\n\| wave 2 \(web\) \| – \| – not run \|/)
  })
})

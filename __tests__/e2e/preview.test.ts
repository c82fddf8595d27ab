// dry-run on the lab swarm: a stack deployed for real, then previews of a
// changed and of the identical compose files, through the Action bundle and
// the CLI. The plan names the service and the variables that change, no value
// appears anywhere, and nothing on the swarm changes (service versions,
// secrets, configs, release records).
import { afterAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ActionRun, Lab } from './harness.js'
import { docker, expectVerdict, leaks, loadLab, removeStack, ROOT, runAction, runCli, sshInputs, sshFlags } from './harness.js'
import type { StackPlan } from '../../src/preview/stack-plan.js'

jest.setTimeout(180_000)

const run = Date.now().toString(36)
const STACK = `preview-${run}`
const APP = path.join(ROOT, 'examples/preview')
// Read at load time: jest starts concurrent tests before beforeAll runs.
const lab: Lab = loadLab()

const BEFORE = { GREETING: `greeting-${run}-before`, DB_PASSWORD: `db-${run}-first-password` }
const AFTER = { GREETING: `greeting-${run}-after`, DB_PASSWORD: `db-${run}-second-password`, ADDED: `added-${run}-value` }
const VALUES = [...Object.values(BEFORE), ...Object.values(AFTER)]

const envText = (values: Record<string, string>): string =>
  Object.entries({ BASE_IMAGE: `${lab.registry}/${lab.baseImage}`, ...values })
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')

/** What a dry run must leave as it was: each service's version, and the stack's secrets and configs (release records too). */
function swarmState(): { versions: Record<string, number>; objects: string[] } {
  const ids = docker(lab, ['service', 'ls', '--filter', `label=com.docker.stack.namespace=${STACK}`, '-q'])
    .trim()
    .split('\n')
    .filter(Boolean)
  const inspected = JSON.parse(docker(lab, ['service', 'inspect', ...ids])) as Array<{ Spec: { Name: string }; Version: { Index: number } }>
  const versions = Object.fromEntries(inspected.map(s => [s.Spec.Name, s.Version.Index]))
  const objects = ['secret', 'config'].flatMap(kind =>
    docker(lab, [kind, 'ls', '--filter', `label=com.docker.stack.namespace=${STACK}`, '--format', `${kind} {{.Name}}`])
      .trim()
      .split('\n')
  )
  return { versions, objects: objects.sort() }
}

/** The connection, and the registry the workers pull the base image from (`--with-registry-auth`). */
const target = (): Record<string, string> => ({
  ...sshInputs(lab),
  registry: lab.registry,
  'registry-username': lab.registryUser,
  'registry-password': lab.registryPassword
})

// The real deploy every test previews against, started at load time and shared.
const deployed = (async () => {
  const result = await runAction(lab, { ...target(), stack: STACK, 'compose-file': 'app.yml', env: envText(BEFORE), timeout: '2m' }, { cwd: APP })
  expectVerdict(result, 0, 'converged')
  return swarmState()
})()
deployed.catch(() => undefined)

afterAll(async () => {
  await removeStack(lab, STACK)
})

const planOf = (result: ActionRun): StackPlan => JSON.parse(result.outputs.plan ?? 'null') as StackPlan

describe('dry-run', () => {
  it.concurrent('Action: a changed compose lists the service and the variable names that change, shows no value, and changes nothing', async () => {
    const before = await deployed
    const result = await runAction(
      lab,
      { ...target(), stack: STACK, 'compose-file': 'app.yml\nchanged.yml', env: envText(AFTER), 'dry-run': 'true', timeout: '2m' },
      { cwd: APP }
    )
    expect({ code: result.code, log: result.code === 0 ? '' : result.log.slice(-3000) }).toEqual({ code: 0, log: '' })
    const plan = planOf(result)
    expect(plan.services.map(s => [s.name, s.action])).toEqual([
      ['web', 'update'],
      ['worker', 'unchanged']
    ])
    expect(plan.services[0]!.changes).toEqual([
      'environment ADDED added; GREETING changed',
      'replicas 1 → 2',
      // The secret's value changed: a new version, named by its key only.
      'secret db_password: new version of db_password'
    ])
    expect(plan.warnings).toEqual([expect.stringContaining('service worker: restart (use deploy.restart_policy), container_name')])
    expect(result.summary).toContain('### Plan')
    expect(result.summary).toContain('environment ADDED added; GREETING changed')
    // No verdict, no status: nothing was deployed.
    expect(result.outputs.status).toBeUndefined()
    // No login (a preview reads no registry), no deploy, no release record.
    expect(result.log).not.toMatch(/Log in to|\[command\]docker stack deploy|Recorded release/)
    expect(leaks(VALUES, { log: result.log, outputs: result.outputFile, summary: result.summary })).toEqual([])
    expect(swarmState()).toEqual(before)
  })

  it.concurrent('Action: a rollback to the live release previews as unchanged and records nothing', async () => {
    const before = await deployed
    const result = await runAction(lab, { ...target(), stack: STACK, rollback: '1', env: envText(BEFORE), 'dry-run': 'true', timeout: '2m' }, { cwd: APP })
    expect({ code: result.code, log: result.code === 0 ? '' : result.log.slice(-3000) }).toEqual({ code: 0, log: '' })
    // It previews the rollback: the log must not say it does one.
    expect(result.log).toContain('Previewing the rollback to release #1')
    expect(result.log).not.toContain('Rolling back')
    expect(planOf(result).services.map(s => [s.name, s.action])).toEqual([
      ['web', 'unchanged'],
      ['worker', 'unchanged']
    ])
    expect(swarmState()).toEqual(before)
  })

  it.concurrent("Action: a runner whose docker CLI (20.10) has no docker stack config is told so, not shown docker's usage text", async () => {
    // Debian's docker.io 20.10 client, first on PATH.
    const bin = mkdtempSync(path.join(os.tmpdir(), 'polish-old-docker-'))
    symlinkSync('/usr/bin/docker', path.join(bin, 'docker'))
    try {
      const result = await runAction(
        lab,
        { ...target(), stack: STACK, 'compose-file': 'app.yml', env: envText(BEFORE), 'dry-run': 'true', timeout: '2m' },
        { cwd: APP, env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` } }
      )
      expect(result.code).not.toBe(0)
      expect(result.log).toMatch(/::error::dry-run needs docker CLI ≥ 23\.0 on the runner \(for docker stack config\); this one is 20\.10\.\d+/)
      expect(result.log).not.toMatch(/unknown flag|Usage: +docker stack/)
      expect(leaks(VALUES, { log: result.log, outputs: result.outputFile, summary: result.summary })).toEqual([])
    } finally {
      rmSync(bin, { recursive: true, force: true })
    }
  })

  it.concurrent('CLI: the identical compose shows every service unchanged, in the readable diff and in --json', async () => {
    const before = await deployed
    const result = await runCli(lab, [...sshFlags(lab), '--stack', STACK, '--compose-file', 'app.yml', '--dry-run', '--json'], {
      cwd: APP,
      env: { SWARM_DEPLOY_ENV: envText(BEFORE) }
    })
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr.slice(-3000) }).toEqual({ code: 0, stderr: '' })
    const json = JSON.parse(result.stdout) as { plan: StackPlan; status: unknown; exitCode: number }
    expect(json.plan.services.map(s => [s.name, s.action, s.changes])).toEqual([
      ['web', 'unchanged', []],
      ['worker', 'unchanged', []]
    ])
    expect(json.exitCode).toBe(0)
    expect(result.stderr).toContain('= web: unchanged')
    expect(result.stderr).toContain('2 unchanged')
    expect(leaks(VALUES, { stdout: result.stdout, stderr: result.stderr })).toEqual([])
    expect(swarmState()).toEqual(before)
  })
})

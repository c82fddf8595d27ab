// refresh-registry-auth on the lab: two stacks deployed with a registry
// user's password A; the password changes to B (A no longer works); one
// stack gets the refresh with B, the other not. The refreshed stack's tasks
// keep running (same task IDs, same spec); then both tasks must move to the
// worker, which has never had the image: the refreshed one pulls with B and
// runs, the other is refused by the registry.
//
// The user is a second htpasswd user of the lab registry (`lab.sh
// registry-user`), so the password every other run uses never changes. The
// tasks move by a node label of this run only (Swarm's constraint enforcer
// replaces a task whose node no longer meets its constraints, from the same
// spec, as it does for a task of a lost node): no node stops, nobody else's
// task moves, so this file needs no exclusive lock on the lab.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as http from 'node:http'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import type { Lab } from './harness.js'
import { docker, expectVerdict, loadLab, pushImage, removeStack, ROOT, runAction, runCli, sshInputs, sshFlags } from './harness.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
const USER = `refresh-${run}`
const REFRESHED = `refresh-r-${run}`
const LEFT = `refresh-n-${run}`
const NAME = `refresh/app-${run}`
const password = (): string =>
  randomBytes(18)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, 'x')
const PASSWORD_A = password()
const PASSWORD_B = password()

let lab: Lab
let image = ''
let workspace = ''
let empty = ''
let workerAddress = ''

const execFileAsync = promisify(execFile)

/** `lab.sh registry-user set|rm USER`, the password on stdin. */
async function registryUser(action: 'set' | 'rm', secret = ''): Promise<void> {
  const child = execFileAsync('bash', [path.join(ROOT, 'lab/lab.sh'), 'registry-user', action, USER], { encoding: 'utf8', timeout: 30_000 })
  child.child.stdin!.end(secret === '' ? '' : `${secret}\n`)
  await child
}

/** HTTP status of the registry's /v2/ for USER with this password. */
async function registryAnswers(secret: string): Promise<number> {
  const response = await fetch(`http://${lab.registry}/v2/`, {
    headers: { authorization: `Basic ${Buffer.from(`${USER}:${secret}`).toString('base64')}` },
    signal: AbortSignal.timeout(5_000)
  })
  return response.status
}

/** A node update, again if another run's node update came in between (Swarm's `update out of sequence`). */
function nodeLabel(node: string, change: '--label-add' | '--label-rm', label: string): void {
  for (let attempt = 1; ; attempt++) {
    try {
      docker(lab, ['node', 'update', change, change === '--label-add' ? `${label}=here` : label, node])
      return
    } catch (error) {
      if (attempt >= 5 || !/out of sequence/.test(String(error))) throw error
    }
  }
}

/** The lab registry's log (lab/README.md, Files): why a pull was refused, which Swarm's task error does not say. */
const registryLog = (): string[] => readFileSync('/var/lib/swarm-lab/logs/registry.log', 'utf8').split('\n')

interface TaskRow {
  id: string
  node: string
  desired: string
  state: string
  error: string
}

function tasksOf(service: string): TaskRow[] {
  return docker(lab, ['service', 'ps', '--no-trunc', '--format', '{{json .}}', service])
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(line => JSON.parse(line) as { ID: string; Node: string; DesiredState: string; CurrentState: string; Error: string })
    .map(t => ({ id: t.ID, node: t.Node, desired: t.DesiredState, state: t.CurrentState.split(' ')[0]!, error: t.Error }))
}

/** Polls the service's tasks until `done` holds (bounded), printing what it sees when it gives up. */
async function waitForTasks(service: string, done: (tasks: TaskRow[]) => boolean, what: string): Promise<TaskRow[]> {
  const deadline = Date.now() + 90_000
  for (;;) {
    const tasks = tasksOf(service)
    if (done(tasks)) return tasks
    if (Date.now() > deadline) throw new Error(`${service}: ${what} not seen within 90 s: ${JSON.stringify(tasks)}`)
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}

interface RawService {
  Version: { Index: number }
  Spec: object
  PreviousSpec?: object
}

/** GET /services/{name} on the manager, as the Engine API gives it (`docker service inspect` adds the defaults to Spec only). */
function inspect(service: string): Promise<RawService> {
  return new Promise((resolve, reject) => {
    const request = http.get({ socketPath: lab.managerDockerHost.replace(/^unix:\/\//, ''), path: `/services/${service}`, timeout: 10_000 }, response => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
      response.on('end', () => (response.statusCode === 200 ? resolve(JSON.parse(body) as RawService) : reject(new Error(`GET /services/${service}: ${body}`))))
    })
    request.on('error', reject)
  })
}

/** IDs of the run's image on a node, tagged or pulled by digest only (as a swarm task pulls it). */
const imagesOn = (host: string): string[] =>
  docker(lab, ['image', 'ls', '-q', `${lab.registry}/${NAME}`], host)
    .trim()
    .split('\n')
    .filter(Boolean)

const workerHasImage = (): boolean => imagesOn(lab.workerDockerHost).length > 0

function removeImage(host: string): void {
  const ids = [...new Set(imagesOn(host))]
  if (ids.length > 0) docker(lab, ['image', 'rm', '-f', ...ids], host)
}

beforeAll(async () => {
  lab = loadLab()
  workerAddress = docker(lab, ['node', 'inspect', '--format', '{{.Status.Addr}}', lab.workerNode]).trim()
  image = `${lab.registry}/${NAME}:v1`
  // An image only this run has, pushed with the lab's own user from the runner's engine: no swarm node has it.
  pushImage(lab, image, [`FROM ${lab.baseImage}`, `RUN echo ${run} > /www/run.txt`, 'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]'])
  await registryUser('set', PASSWORD_A)
  // Each stack follows its own label (named as the stack) from node to node.
  for (const stack of [REFRESHED, LEFT]) nodeLabel(lab.managerNode, '--label-add', stack)
  workspace = mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-ws-'))
  for (const stack of [REFRESHED, LEFT]) {
    writeFileSync(
      path.join(workspace, `${stack}.yml`),
      [
        'services:',
        '  web:',
        `    image: ${image}`,
        '    init: true',
        '    deploy:',
        '      replicas: 1',
        '      placement:',
        `        constraints: [node.labels.${stack} == here]`,
        ''
      ].join('\n')
    )
  }
  // No compose file, no Dockerfile: a refresh reads neither.
  empty = mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-empty-'))
})

afterAll(async () => {
  await Promise.all([removeStack(lab, REFRESHED), removeStack(lab, LEFT)])
  for (const node of [lab.managerNode, lab.workerNode]) {
    for (const label of [REFRESHED, LEFT]) {
      try {
        nodeLabel(node, '--label-rm', label)
      } catch {
        // The label was not there.
      }
    }
  }
  await registryUser('rm').catch(() => undefined)
  // A task's container may still be stopping, and holds its image until it is gone.
  for (const host of [lab.managerDockerHost, lab.workerDockerHost]) {
    for (let attempt = 1; attempt <= 20 && imagesOn(host).length > 0; attempt++) {
      try {
        removeImage(host)
      } catch {
        await new Promise(resolve => setTimeout(resolve, 500))
      }
    }
  }
  for (const dir of [workspace, empty]) if (dir) rmSync(dir, { recursive: true, force: true })
})

const deployInputs = (stack: string): Record<string, string> => ({
  ...sshInputs(lab),
  stack,
  'compose-file': `${stack}.yml`,
  registry: lab.registry,
  'registry-username': USER,
  'registry-password': PASSWORD_A,
  timeout: '2m'
})

const refreshInputs = (stack: string, secret: string): Record<string, string> => ({
  ...sshInputs(lab),
  'refresh-registry-auth': 'true',
  stack,
  registry: lab.registry,
  'registry-username': USER,
  'registry-password': secret
})

describe('refresh-registry-auth on the lab', () => {
  it('gives the stack the new credential without restarting a task, and a task rescheduled later pulls with it; without the refresh the pull is refused', async () => {
    // Both stacks run on the manager, pulled with password A.
    const deployed = await Promise.all([runAction(lab, deployInputs(REFRESHED), { cwd: workspace }), runAction(lab, deployInputs(LEFT), { cwd: workspace })])
    for (const result of deployed) expectVerdict(result, 0, 'converged')
    const service = `${REFRESHED}_web`
    const tasksBefore = tasksOf(service)
    expect(tasksBefore.map(t => [t.node, t.state])).toEqual([[lab.managerNode, 'Running']])
    const before = await inspect(service)

    // The password changes: A no longer works.
    await registryUser('set', PASSWORD_B)
    expect(await registryAnswers(PASSWORD_A)).toBe(401)
    expect(await registryAnswers(PASSWORD_B)).toBe(200)

    // A refresh with a credential the registry refuses stops at the login and changes nothing.
    const refused = await runCli(lab, ['refresh-auth', '--stack', REFRESHED, ...sshFlags(lab), '--registry', lab.registry, '--registry-username', USER], {
      env: { SWARM_DEPLOY_REGISTRY_PASSWORD: PASSWORD_A },
      cwd: empty
    })
    expect(refused.code).not.toBe(0)
    expect(refused.stdout + refused.stderr).toContain(`docker login to ${lab.registry}`)
    expect((await inspect(service)).Version.Index).toBe(before.Version.Index)

    // The refresh with B, as a scheduled workflow runs it.
    const refresh = await runAction(lab, refreshInputs(REFRESHED, PASSWORD_B), { cwd: empty })
    expect({ code: refresh.code, status: refresh.outputs.status }).toEqual({ code: 0, status: 'refreshed' })
    expect(refresh.log).toContain(`${service}: new credential stored`)
    expect(refresh.summary).toContain(`registry credential of stack \`${REFRESHED}\` ✅ refreshed`)
    for (const secret of [PASSWORD_A, PASSWORD_B]) {
      expect(refresh.log).not.toContain(secret)
      expect(refresh.summary).not.toContain(secret)
      expect(refused.stdout + refused.stderr).not.toContain(secret)
    }
    // The service was updated (a new version), its spec is the same, field for field, and no task was replaced.
    const after = await inspect(service)
    expect(after.Version.Index).toBeGreaterThan(before.Version.Index)
    expect(after.Spec).toEqual(before.Spec)
    expect(after.PreviousSpec).toEqual(before.Spec)
    expect(tasksOf(service)).toEqual(tasksBefore)

    // The stack that kept A first: its task must move to the worker, which has never had the image.
    removeImage(lab.workerDockerHost)
    expect(workerHasImage()).toBe(false)
    nodeLabel(lab.workerNode, '--label-add', LEFT)
    nodeLabel(lab.managerNode, '--label-rm', LEFT)
    const refusedTasks = await waitForTasks(
      `${LEFT}_web`,
      tasks => tasks.some(t => t.node === lab.workerNode && t.error !== ''),
      'a task on the worker that failed to start'
    )
    const error = refusedTasks.find(t => t.node === lab.workerNode && t.error !== '')!.error
    process.stdout.write(`refresh.test: without the refresh the worker's task fails with: ${error}\n`)
    // Swarm says only that the image is not there; the registry's log says why: the worker's pull with A was refused.
    expect(error).toMatch(/no basic auth credentials|unauthorized|authentication required|No such image/i)
    expect(registryLog().some(l => l.includes(`error authenticating user \\"${USER}\\"`) && l.includes(`remoteaddr="${workerAddress}:`))).toBe(true)
    expect(refusedTasks.some(t => t.node === lab.workerNode && t.state === 'Running')).toBe(false)
    // Gone before the refreshed stack brings the image to the worker, where this one would then start from it.
    await removeStack(lab, LEFT)
    expect(workerHasImage()).toBe(false)

    // The refreshed stack's task moves the same way: it pulls with B and runs.
    nodeLabel(lab.workerNode, '--label-add', REFRESHED)
    nodeLabel(lab.managerNode, '--label-rm', REFRESHED)
    const moved = await waitForTasks(service, tasks => tasks.some(t => t.node === lab.workerNode && t.state === 'Running'), 'a running task on the worker')
    // The task that ran before is the one replaced, now and not by the refresh.
    expect(moved.find(t => t.id === tasksBefore[0]!.id)?.desired).toBe('Shutdown')
    expect(workerHasImage()).toBe(true)
    // The registry served the worker the manifest, which only B can get.
    expect(registryLog().some(l => l.startsWith(`${workerAddress} - `) && l.includes(`GET /v2/${NAME}/manifests/`) && / 200 /.test(l))).toBe(true)
  })
})

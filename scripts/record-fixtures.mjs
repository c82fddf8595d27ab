#!/usr/bin/env node
// Records real swarm snapshots from the lab as judge fixtures: runs a deploy
// with the CLI (dist/cli.js --json) and, meanwhile, reads the manager the way
// the engine does (services by stack label, their tasks, nodes), keeping each
// snapshot whose state changed. Output: __tests__/fixtures/<scenario>.json
// (or SWARM_FIXTURES_DIR).
//   node scripts/record-fixtures.mjs [scenario,…]        (the lab must be up)
import Docker from 'dockerode'
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const lab = JSON.parse(readFileSync(process.env.SWARM_LAB_JSON ?? '/run/swl/lab.json', 'utf8'))
const docker = new Docker({ socketPath: lab.managerDockerHost.replace('unix://', '') })
const outDir = process.env.SWARM_FIXTURES_DIR ?? path.join(root, '__tests__/fixtures')
const run = Date.now().toString(36)
let stack = '' // the stack being recorded; record() sets it

async function snapshot() {
  const services = await docker.listServices({ filters: JSON.stringify({ label: [`com.docker.stack.namespace=${stack}`] }) })
  const ids = services.map(s => s.ID)
  const tasks = ids.length ? await docker.listTasks({ filters: JSON.stringify({ service: ids }) }) : []
  const nodes = await docker.listNodes()
  return { services, tasks, nodes }
}

// What the judge reads; snapshots equal in these are not kept twice.
function essence(s) {
  const pick = {
    services: s.services.map(v => [v.ID, v.Spec.TaskTemplate, v.UpdateStatus?.State, v.UpdateStatus?.StartedAt]),
    tasks: s.tasks.map(t => [t.ID, t.DesiredState, t.Status.State, t.Status.Err])
  }
  return createHash('sha256').update(JSON.stringify(pick)).digest('hex')
}

/** Deploy with the CLI; resolves to the verdict's status ('none' when there is none). */
function action(inputs, cwd) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'sd-fixture-'))
  const { env: values = '', ...flags } = inputs
  const env = {
    PATH: process.env.PATH,
    HOME: scratch,
    SWARM_DEPLOY_TEMP: scratch,
    SWARM_DEPLOY_REGISTRY_PASSWORD: lab.registryPassword,
    SWARM_DEPLOY_ENV: values,
    DOCKER_HOST: lab.runnerDockerHost,
    // A runner with buildx and the containerd image store (the lab on engine 28) pushes a provenance
    // attestation, new at every build: without this, the `unchanged` scenario's rebuild is a new digest.
    BUILDX_NO_DEFAULT_ATTESTATIONS: '1'
  }
  const all = {
    host: lab.sshHost,
    port: String(lab.sshPort),
    user: lab.sshUser,
    'known-hosts': lab.knownHosts,
    'registry-username': lab.registryUser,
    registry: lab.registry,
    stack,
    timeout: '40s',
    ...flags
  }
  const args = ['--json', '--ssh-key-file', lab.sshKeyFile, ...Object.entries(all).flatMap(([k, v]) => [`--${k}`, v])]
  const child = spawn(process.execPath, [path.join(root, 'dist/cli.js'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'ignore'] })
  let stdout = ''
  child.stdout.on('data', chunk => (stdout += chunk))
  return new Promise(resolve =>
    child.on('close', () => {
      try {
        resolve(JSON.parse(stdout).status ?? 'none')
      } catch {
        resolve('none')
      }
    })
  )
}

// `during` runs alongside the deploy, for scenarios where someone else acts mid-rollout.
async function record(scenario, inputs, { app = 'hello', name = 'main', during } = {}) {
  stack = `fixture-${name}-${run}`
  const baseline = await snapshot()
  const snapshots = []
  let last = ''
  let done = false
  const finished = action(inputs, path.join(root, 'examples', app)).then(status => {
    done = true
    return status
  })
  const meddling = during?.(() => done)
  while (!done) {
    const s = await snapshot()
    const key = essence(s)
    if (key !== last) snapshots.push(s)
    last = key
    await new Promise(r => setTimeout(r, 150))
  }
  snapshots.push(await snapshot())
  const status = await finished
  await meddling
  mkdirSync(outDir, { recursive: true })
  writeFileSync(path.join(outDir, `${scenario}.json`), JSON.stringify({ scenario, stack, status, baseline, snapshots }, null, 1) + '\n')
  console.log(`${scenario}: ${snapshots.length} snapshots, action status ${status}`)
}

/** Once the deploy's new spec runs on one task (or the deploy ended), do `act` to the service. */
function midRollout(service, act) {
  return async finished => {
    const previous = (await docker.getService(service).inspect()).Spec.TaskTemplate.ContainerSpec.Image
    while (!finished()) {
      const image = (await docker.getService(service).inspect()).Spec.TaskTemplate.ContainerSpec.Image
      const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [service], 'desired-state': ['running'] }) })
      if (image !== previous && tasks.some(t => t.Spec.ContainerSpec.Image === image && t.Status.State === 'running')) return act(previous)
      await new Promise(r => setTimeout(r, 150))
    }
  }
}

/** Deploy a first version (not recorded), then record the second while someone else acts mid-rollout. */
async function superseded(scenario, act) {
  const inputs = { image, 'compose-file': 'steps.yml', context: '../hello' }
  stack = `fixture-${scenario}-${run}`
  await action({ ...inputs, tags: `${scenario}1`, 'build-args': 'VERSION=1' }, path.join(root, 'examples/converge'))
  const service = `${stack}_web`
  const manager = args => execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: lab.managerDockerHost }, stdio: 'ignore' })
  await record(
    scenario,
    { ...inputs, tags: `${scenario}2`, 'build-args': 'VERSION=2' },
    { app: 'converge', name: scenario, during: midRollout(service, previous => act(manager, service, previous)) }
  )
}

const image = `${lab.registry}/fixture/hello`
const base = `BASE_IMAGE=${lab.registry}/${lab.baseImage}`
const scenarios = (process.argv[2] ?? 'fresh,update,unchanged,rollback,unschedulable,global,job,job-failed,zero,pause,crash,superseded,removed').split(',')
const all = {
  fresh: () => record('fresh', { image, tags: 'f1', 'build-args': 'VERSION=f1', env: 'DB_PASSWORD=x' }),
  update: () => record('update', { image, tags: 'f2', 'build-args': 'VERSION=f2', env: 'DB_PASSWORD=x' }),
  unchanged: () => record('unchanged', { image, tags: 'f2', 'build-args': 'VERSION=f2', env: 'DB_PASSWORD=x' }),
  rollback: () => record('rollback', { image, tags: 'f3', 'build-args': 'VERSION=f3\nHEALTH_PATH=missing', env: 'DB_PASSWORD=x' }),
  unschedulable: () => record('unschedulable', { 'compose-file': 'unschedulable.yml', env: base, timeout: '8s' }),
  global: () => record('global', { 'compose-file': 'global.yml', env: base }, { app: 'converge', name: 'global' }),
  job: () => record('job', { 'compose-file': 'job.yml', env: base }, { app: 'converge', name: 'job' }),
  'job-failed': () => record('job-failed', { 'compose-file': 'job.yml', env: `${base}\nJOB_EXIT=1` }, { app: 'converge', name: 'jobfail' }),
  zero: () => record('zero', { 'compose-file': 'zero.yml', env: base }, { app: 'converge', name: 'zero' }),
  pause: async () => {
    const inputs = { image, 'compose-file': 'web-pause.yml', context: '../hello' }
    // The good version first, not recorded: the fixture is the failing update on top of it.
    stack = `fixture-pause-${run}`
    await action({ ...inputs, tags: 'p1', 'build-args': 'VERSION=p1' }, path.join(root, 'examples/converge'))
    await record('pause', { ...inputs, tags: 'p2', 'build-args': 'VERSION=p2\nHEALTH_PATH=missing' }, { app: 'converge', name: 'pause' })
  },
  crash: () => record('crash', { 'compose-file': 'crash.yml', env: base }, { app: 'converge', name: 'crash' }),
  // Someone else updates the service back to the first image, with a variable of their own.
  superseded: () =>
    superseded('superseded', (manager, service, previous) =>
      manager(['service', 'update', '--detach', '--image', previous, '--env-add', 'FOREIGN=1', service])
    ),
  removed: () => superseded('removed', (manager, service) => manager(['service', 'rm', service]))
}
try {
  for (const name of scenarios) await all[name]()
} finally {
  const stacks = new Set((await docker.listServices()).map(s => s.Spec.Labels?.['com.docker.stack.namespace']).filter(n => n?.endsWith(`-${run}`)))
  for (const name of stacks) execFileSync('docker', ['stack', 'rm', name], { env: { ...process.env, DOCKER_HOST: lab.managerDockerHost }, stdio: 'ignore' })
}

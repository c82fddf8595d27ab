#!/usr/bin/env node
// Records real swarm snapshots from the lab as judge fixtures: runs a deploy
// through dist/index.js and, meanwhile, reads the manager the way the action
// does (services by stack label, their tasks, nodes), keeping each snapshot
// whose state changed. Output: __tests__/fixtures/<scenario>.json.
//   node scripts/record-fixtures.mjs        (the lab must be up)
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
const outDir = path.join(root, '__tests__/fixtures')
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

function action(inputs, cwd) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'sd-fixture-'))
  const env = {
    PATH: process.env.PATH,
    HOME: scratch,
    RUNNER_TEMP: path.join(scratch, 'temp'),
    GITHUB_OUTPUT: path.join(scratch, 'output'),
    DOCKER_HOST: lab.runnerDockerHost
  }
  writeFileSync(env.GITHUB_OUTPUT, '')
  const all = {
    host: lab.sshHost, port: String(lab.sshPort), user: lab.sshUser,
    'ssh-key': readFileSync(lab.sshKeyFile, 'utf8'), 'known-hosts': lab.knownHosts,
    'registry-username': lab.registryUser, 'registry-password': lab.registryPassword, registry: lab.registry,
    stack, timeout: '40s', ...inputs
  }
  for (const [k, v] of Object.entries(all)) env[`INPUT_${k.toUpperCase()}`] = v
  const child = spawn(process.execPath, [path.join(root, 'dist/index.js')], { cwd, env, stdio: 'ignore' })
  return new Promise(resolve => child.on('close', () => {
    const out = readFileSync(env.GITHUB_OUTPUT, 'utf8')
    resolve(/^status<<(\S+)\n(.*)\n/m.exec(out)?.[2] ?? 'none')
  }))
}

async function record(scenario, inputs, { app = 'hello', name = 'main' } = {}) {
  stack = `fixture-${name}-${run}`
  const baseline = await snapshot()
  const snapshots = []
  let last = ''
  let done = false
  const finished = action(inputs, path.join(root, 'examples', app)).then(status => { done = true; return status })
  while (!done) {
    const s = await snapshot()
    const key = essence(s)
    if (key !== last) snapshots.push(s)
    last = key
    await new Promise(r => setTimeout(r, 150))
  }
  snapshots.push(await snapshot())
  const status = await finished
  mkdirSync(outDir, { recursive: true })
  writeFileSync(path.join(outDir, `${scenario}.json`), JSON.stringify({ scenario, stack, status, baseline, snapshots }, null, 1) + '\n')
  console.log(`${scenario}: ${snapshots.length} snapshots, action status ${status}`)
}

const image = `${lab.registry}/fixture/hello`
const base = `BASE_IMAGE=${lab.registry}/${lab.baseImage}`
const scenarios = (process.argv[2] ?? 'fresh,update,unchanged,rollback,unschedulable,global,job,job-failed,zero,pause,crash').split(',')
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
  crash: () => record('crash', { 'compose-file': 'crash.yml', env: base }, { app: 'converge', name: 'crash' })
}
try {
  for (const name of scenarios) await all[name]()
} finally {
  const stacks = new Set((await docker.listServices()).map(s => s.Spec.Labels?.['com.docker.stack.namespace']).filter(n => n?.endsWith(`-${run}`)))
  for (const name of stacks) execFileSync('docker', ['stack', 'rm', name], { env: { ...process.env, DOCKER_HOST: lab.managerDockerHost }, stdio: 'ignore' })
}

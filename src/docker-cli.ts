// The seam to the runner's docker CLI. Arguments never carry secrets:
// passwords go through stdin and interpolation values through the child's
// environment, which other users cannot read in /proc.
import { spawn } from 'node:child_process'
import type { Reporter } from './ports.js'

export interface CliResult {
  /** The exit code, or -1 when a signal ended the command. */
  code: number
  stdout: string
  stderr: string
  /** Stopped because it ran past timeoutMs. */
  timedOut: boolean
}

export interface CliOptions {
  /** Written to stdin (e.g. a password for --password-stdin). */
  stdin?: string
  /** Extra environment for this call. */
  env?: Record<string, string>
  /** Replace the inherited environment instead of extending it. */
  cleanEnv?: boolean
  /** Do not echo the command's output to the log. */
  silent?: boolean
  /** Stop the command (SIGTERM) if it runs longer than this. */
  timeoutMs?: number
}

export interface DockerCli {
  run(args: string[], options?: CliOptions): Promise<CliResult>
}

const KILL_AFTER_MS = 5_000

export class ExecDockerCli implements DockerCli {
  /**
   * @param configDir the throwaway DOCKER_CONFIG every call uses
   * @param environment the process environment commands inherit
   */
  constructor(
    private readonly configDir: string,
    private readonly environment: Readonly<Record<string, string | undefined>>,
    private readonly reporter: Pick<Reporter, 'command' | 'stream'>
  ) {}

  async run(args: string[], options: CliOptions = {}): Promise<CliResult> {
    const base = options.cleanEnv ? baseEnvironment(this.environment) : stringEnv(this.environment)
    const env = { ...base, ...options.env, DOCKER_CONFIG: this.configDir }
    const silent = options.silent ?? false
    // The arguments never hold a secret, so the command line is safe to show.
    if (!silent) this.reporter.command(['docker', ...args])
    // Its own process group, so that a timeout stops whatever it started too.
    const child = spawn('docker', args, { env, stdio: ['pipe', 'pipe', 'pipe'], detached: options.timeoutMs !== undefined })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk)
      if (!silent) this.reporter.stream(chunk, 'stdout')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk)
      if (!silent) this.reporter.stream(chunk, 'stderr')
    })
    child.stdin.on('error', () => undefined) // a command that exits before reading its stdin
    child.stdin.end(options.stdin ?? '')
    // Past its time the group gets SIGTERM (the CLI cancels its requests), and SIGKILL if it lingers.
    let timedOut = false
    const signalGroup = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-child.pid!, signal)
      } catch {
        // already gone
      }
    }
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            if (child.exitCode !== null || child.signalCode !== null) return
            timedOut = true
            signalGroup('SIGTERM')
            setTimeout(() => signalGroup('SIGKILL'), KILL_AFTER_MS).unref()
          }, options.timeoutMs)
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new Error("the docker CLI is not on the runner's PATH") : error))
      child.on('close', resolve)
      // Stopped: do not wait for pipes something else may still hold open.
      child.on('exit', exitCode => {
        if (!timedOut) return
        signalGroup('SIGKILL') // whatever it started and left behind
        child.stdout.destroy()
        child.stderr.destroy()
        resolve(exitCode)
      })
    }).finally(() => clearTimeout(timer))
    // Decoded whole, so no character is split across chunks.
    const stdout = Buffer.concat(out).toString('utf8')
    const stderr = Buffer.concat(err).toString('utf8')
    return { code: code ?? -1, stdout, stderr, timedOut }
  }
}

/** A docker command ran past its time and was stopped. */
export class CliTimeout extends Error {}

/** Fail with the command's own error text when it exits non-zero. */
export async function runOrThrow(cli: DockerCli, what: string, args: string[], options?: CliOptions): Promise<CliResult> {
  const result = await cli.run(args, options)
  if (result.timedOut) throw new CliTimeout(`${what} did not finish within ${Math.round((options?.timeoutMs ?? 0) / 1000)} s and was stopped`)
  if (result.code !== 0) {
    const detail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join('\n')
    throw new Error(`${what} failed (docker exit code ${result.code}): ${detail}`)
  }
  return result
}

// Just what a docker CLI needs to run; the runner's other variables stay out
// of compose interpolation so that only the `env` input reaches the stack.
const KEPT = ['PATH', 'HOME', 'TMPDIR', 'USER', 'LANG', 'LC_ALL', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']

function baseEnvironment(source: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of KEPT) {
    const value = source[name]
    if (value !== undefined) env[name] = value
  }
  return env
}

function stringEnv(source: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(source)) if (value !== undefined) env[name] = value
  return env
}

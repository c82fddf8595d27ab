// The seam to the runner's docker CLI. Arguments never carry secrets:
// passwords go through stdin and interpolation values through the child's
// environment, which other users cannot read in /proc. Every child starts
// with an explicit minimal environment (childEnvironment), never this
// process's: the runner's INPUT_* variables, its tokens and everything else
// stay out of docker, its plugins and credential helpers, and only
// `docker stack deploy` is given the compose values.
import { spawn } from 'node:child_process'
import type { CliOptions, CliResult, DockerCli, Host, Reporter } from './ports.js'

const KILL_AFTER_MS = 5_000

export class ExecDockerCli implements DockerCli {
  /**
   * @param configDir the throwaway DOCKER_CONFIG every call uses
   * @param host the process environment childEnvironment picks from, and where each child's process group is recorded
   */
  constructor(
    private readonly configDir: string,
    private readonly host: Pick<Host, 'env' | 'leftovers'>,
    private readonly reporter: Pick<Reporter, 'command' | 'stream'>
  ) {}

  async run(args: string[], options: CliOptions = {}): Promise<CliResult> {
    const env = { ...childEnvironment(this.host.env), ...options.env, DOCKER_CONFIG: this.configDir }
    const silent = options.silent ?? false
    // The arguments never hold a secret, so the command line is safe to show.
    if (!silent) this.reporter.command(['docker', ...args])
    // Its own process group, so that a timeout or a cancel stops whatever it started too.
    const child = spawn('docker', args, { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    const release = child.pid === undefined ? () => undefined : this.host.leftovers.processGroup(child.pid)
    child.on('exit', release)
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

// What a docker CLI, its plugins (buildx) and credential helpers need, and
// nothing else of the runner's: which binaries and home, locale and temp,
// which engine and builder (DOCKER_HOST, DOCKER_CONTEXT, DOCKER_BUILDKIT,
// BUILDX_BUILDER, …), TLS and proxies, an SSH agent for ssh:// engines and
// `build --ssh`, XDG_RUNTIME_DIR for rootless engines, and where gcloud's
// helper finds its credentials. The runner's other variables (INPUT_*,
// GITHUB_TOKEN, ACTIONS_RUNTIME_TOKEN) stay out, and so compose
// interpolation sees only the `env` input. AWS_* are credentials, not paths:
// only a credential helper this project runs itself gets them
// (credentialHelperEnvironment); the ECR token is fetched in-process.
const KEPT = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TMPDIR',
  'TZ',
  'LANG',
  'LANGUAGE',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'DOCKER_HOST',
  'DOCKER_CONTEXT',
  'DOCKER_TLS_VERIFY',
  'DOCKER_CERT_PATH',
  'DOCKER_API_VERSION',
  'DOCKER_BUILDKIT',
  'DOCKER_DEFAULT_PLATFORM',
  'DOCKER_CONFIG',
  'BUILDKIT_PROGRESS',
  'BUILDX_BUILDER',
  'BUILDX_CONFIG',
  'BUILDX_NO_DEFAULT_ATTESTATIONS',
  'SSH_AUTH_SOCK',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'CLOUDSDK_CONFIG'
]
const KEPT_PREFIXES = ['LC_']

/** The environment every child starts from: the few variables of `source` docker needs (KEPT). */
export function childEnvironment(source: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && (KEPT.includes(name) || KEPT_PREFIXES.some(prefix => name.startsWith(prefix)))) env[name] = value
  }
  return env
}

/** A credential helper's environment: a docker child's, plus the AWS credentials docker-credential-ecr-login reads. */
export function credentialHelperEnvironment(source: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env = childEnvironment(source)
  for (const [name, value] of Object.entries(source)) if (value !== undefined && name.startsWith('AWS_')) env[name] = value
  return env
}

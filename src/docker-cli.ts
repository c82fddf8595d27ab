// The seam to the runner's docker CLI. Arguments never carry secrets:
// passwords go through stdin and interpolation values through the child's
// environment, which other users cannot read in /proc.
import * as exec from '@actions/exec'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
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
}

export interface DockerCli {
  run(args: string[], options?: CliOptions): Promise<CliResult>
}

export class ExecDockerCli implements DockerCli {
  /** @param configDir the throwaway DOCKER_CONFIG every call uses */
  constructor(private readonly configDir: string) {}

  async run(args: string[], options: CliOptions = {}): Promise<CliResult> {
    const base = options.cleanEnv ? baseEnvironment() : stringEnv(process.env)
    const env = { ...base, ...options.env, DOCKER_CONFIG: this.configDir }
    const result = await exec.getExecOutput('docker', args, {
      env,
      input: options.stdin === undefined ? undefined : Buffer.from(options.stdin),
      ignoreReturnCode: true,
      silent: options.silent ?? false
    })
    return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr }
  }
}

/** Fail with the command's own error text when it exits non-zero. */
export async function runOrThrow(cli: DockerCli, what: string, args: string[], options?: CliOptions): Promise<CliResult> {
  const result = await cli.run(args, options)
  if (result.code !== 0) {
    const detail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join('\n')
    throw new Error(`${what} failed (docker exit code ${result.code}): ${detail}`)
  }
  return result
}

// Just what a docker CLI needs to run; the runner's other variables stay out
// of compose interpolation so that only the `env` input reaches the stack.
const KEPT = ['PATH', 'HOME', 'TMPDIR', 'USER', 'LANG', 'LC_ALL', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']

function baseEnvironment(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of KEPT) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  return env
}

function stringEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(source)) if (value !== undefined) env[name] = value
  return env
}

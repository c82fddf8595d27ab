// The runner's docker CLI (src/docker-cli.ts). Arguments never carry secrets.

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
  /** Extra environment for this call, on top of childEnvironment. */
  env?: Record<string, string>
  /** Do not echo the command's output to the log. */
  silent?: boolean
  /** Stop the command (SIGTERM) if it runs longer than this. */
  timeoutMs?: number
}

export interface DockerCli {
  run(args: string[], options?: CliOptions): Promise<CliResult>
}

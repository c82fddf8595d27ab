// What every sub-command shares with the main command: the exit codes, the
// process it runs in (stdout, stderr, signals) and the --json text.

export const EXIT = { converged: 0, failed: 1, cancelled: 1, input: 2, unreachable: 3 } as const

export interface CliControl {
  /** Resolves on SIGINT or SIGTERM: the run is cancelled. */
  signalled?: Promise<NodeJS.Signals>
  /** On cancel: stops the docker children and removes the run's files. */
  cleanUp?: () => Promise<void>
  /** Removes variables from the process environment (the secret ones, once read). */
  forgetEnv?: (names: readonly string[]) => void
}

export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
}

/**
 * The --json text, each string in it redacted on its own: redacting the
 * serialised text would reach into numbers and JSON syntax, and a secret made
 * of digits would leave text that no longer parses.
 */
export function jsonText(value: object, redact: (text: string) => string): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? redact(item) : item))
}

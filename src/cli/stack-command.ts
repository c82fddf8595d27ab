// What the stack sub-commands (`releases`, `unlock`, `rebalance`,
// `prune-images`) share before their own work: the command line, --help,
// every secret masked, then the stack, where the swarm is and the command's
// own settings. A bad command line or input is exit 2, said on stderr.
import { readTarget } from '../inputs/inputs.js'
import { InputError, parseStackName } from '../inputs/parse.js'
import type { Host, LocalTarget, SshTarget } from '../ports.js'
import { secretsOf } from '../secrets.js'
import type { CommandLine } from './args.js'
import { parseCommandLine, UsageError } from './args.js'
import type { CliIo } from './io.js'
import { EXIT } from './io.js'
import type { TerminalReporter } from './terminal.js'
import { terminalReporter } from './terminal.js'

export type Target = SshTarget | LocalTarget

export interface StackCommand<T> {
  line: CommandLine
  reporter: TerminalReporter
  stack: string
  target: Target
  /** What the command's own reader made of its flags. */
  settings: T
}

/** Reads a command's own flags; throws InputError on a bad one. */
export type SettingsReader<T> = (line: CommandLine, target: Target) => T

/** The command's parts, or the exit code it ended with (help, or bad input). */
export function readStackCommand(name: string, help: string, argv: string[], io: CliIo, host: Host): StackCommand<undefined> | number
export function readStackCommand<T>(name: string, help: string, argv: string[], io: CliIo, host: Host, settingsOf: SettingsReader<T>): StackCommand<T> | number
export function readStackCommand<T>(
  name: string,
  help: string,
  argv: string[],
  io: CliIo,
  host: Host,
  settingsOf?: SettingsReader<T>
): StackCommand<T | undefined> | number {
  const readText = (file: string): string | undefined => host.files.read(file)?.toString('utf8')
  let line
  try {
    line = parseCommandLine(argv, { env: host.env, readFile: readText })
  } catch (error) {
    if (error instanceof UsageError || error instanceof InputError) {
      io.stderr(`swarm-deploy ${name}: ${error.message}\n`)
      return EXIT.input
    }
    throw error
  }
  if (line.help) {
    io.stdout(help)
    return 0
  }
  const reporter = terminalReporter(io.stderr, { verbose: line.verbose, now: host.now })
  for (const { value } of secretsOf(line.read)) reporter.secret(value)
  try {
    const stack = parseStackName('stack', line.read('stack'))
    const target = readTarget(line.read)
    return { line, reporter, stack, target, settings: settingsOf?.(line, target) }
  } catch (error) {
    if (error instanceof InputError) {
      io.stderr(`swarm-deploy ${name}: ${reporter.redact(error.message)}\n`)
      return EXIT.input
    }
    throw error
  }
}

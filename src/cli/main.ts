// The `swarm-deploy` command: the engine with a terminal reporter. The verdict
// decides the exit code: 0 converged; 1 failed, rolled back, timed out or
// another error; 2 bad input (nothing done); 3 registry or swarm unreachable.
import type { Outcome } from '../engine.js'
import { runDeploy } from '../engine.js'
import { getInputs } from '../inputs/inputs.js'
import { InputError } from '../inputs/parse.js'
import type { Adapters, Host } from '../ports.js'
import { renderText } from '../report/text.js'
import { secretsOf } from '../secrets.js'
import { helpText, parseCommandLine, UsageError } from './args.js'
import { terminalReporter } from './terminal.js'

export const EXIT = { converged: 0, failed: 1, input: 2, unreachable: 3 } as const

export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
}

export function exitCode(outcome: Outcome): number {
  if (outcome.stopped) return outcome.stopped.kind === 'input' ? EXIT.input : outcome.stopped.kind === 'unreachable' ? EXIT.unreachable : EXIT.failed
  return outcome.status === 'converged' ? EXIT.converged : EXIT.failed
}

/** What --json prints: the Action's outputs, the stats, and why the run stopped, if it did. */
export function jsonResult(outputs: Record<string, string>, outcome: Outcome | undefined, error: { kind: string; message: string } | undefined, code: number): object {
  return {
    status: outputs.status ?? null,
    image: outputs.image ?? null,
    digest: outputs.digest ?? null,
    services: outputs.services === undefined ? null : (JSON.parse(outputs.services) as unknown),
    stats: outcome?.stats ?? null,
    startedAt: outcome?.startedAt ?? null,
    phases: outcome?.phases ?? [],
    error: error ?? null,
    exitCode: code
  }
}

/**
 * The --json text, each string in it redacted on its own: redacting the
 * serialised text would reach into numbers and JSON syntax, and a secret made
 * of digits would leave text that no longer parses.
 */
export function jsonText(value: object, redact: (text: string) => string): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? redact(item) : item))
}

export async function cliMain(argv: string[], io: CliIo, host: Host, adapters: Adapters): Promise<number> {
  const readText = (file: string): string | undefined => host.files.read(file)?.toString('utf8')
  let json = argv.includes('--json')
  // Until the command line is read nothing is known to be secret, so errors
  // here never quote a value.
  const refuse = (message: string): number => {
    io.stderr(`swarm-deploy: ${message}\n`)
    if (json) io.stdout(JSON.stringify(jsonResult({}, undefined, { kind: 'input', message }, EXIT.input)) + '\n')
    return EXIT.input
  }
  let line
  try {
    line = parseCommandLine(argv, { env: host.env, readFile: readText })
  } catch (error) {
    if (error instanceof UsageError || error instanceof InputError) return refuse(error.message)
    throw error
  }
  if (line.help) {
    io.stdout(helpText())
    return 0
  }
  json = line.json
  const reporter = terminalReporter(json ? io.stderr : io.stdout, { verbose: line.verbose, now: host.now })
  // Mask first: nothing may print before every secret is registered.
  for (const secret of secretsOf(line.read)) reporter.secret(secret)

  let inputs
  try {
    inputs = getInputs(line.read, { env: host.env, isFile: file => host.files.read(file) !== undefined, readFile: file => readText(file) ?? '' })
  } catch (error) {
    if (error instanceof InputError) return refuse(reporter.redact(error.message))
    throw error
  }
  const outcome = await runDeploy(inputs, host, adapters, reporter)
  if (outcome.report) {
    reporter.print('')
    reporter.print(renderText(outcome.report).trimEnd())
  }
  if (outcome.stopped) reporter.print(`error: ${outcome.stopped.message}`)
  const code = exitCode(outcome)
  if (json) io.stdout(jsonText(jsonResult(reporter.outputs, outcome, outcome.stopped, code), text => reporter.redact(text)) + '\n')
  return code
}

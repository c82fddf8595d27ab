// The `swarm-deploy` command: the engine with a terminal reporter. The verdict
// decides the exit code: 0 converged; 1 failed, rolled back, timed out,
// cancelled or another error; 2 bad input (nothing done); 3 registry or swarm
// unreachable.
import type { Outcome } from '../outcome.js'
import { runDeploy } from '../engine.js'
import { emptyOutcome } from '../outcome.js'
import { deployOutputs } from '../report/outputs.js'
import { getInputs } from '../inputs/inputs.js'
import { InputError } from '../inputs/parse.js'
import type { Adapters, Host } from '../ports.js'
import { renderText } from '../report/text.js'
import { renderPlanText } from '../report/plan.js'
import { inertOutput } from '../report/plain-text.js'
import { ENV_SECRET_INPUTS, secretsOf } from '../secrets.js'
import { envName, helpText, parseCommandLine, UsageError } from './args.js'
import { terminalReporter } from './terminal.js'
import { releasesMain } from './releases.js'
import { REFRESH_HELP, refreshAuthMain } from './refresh-auth.js'
import { wantsRefresh } from '../inputs/refresh-inputs.js'
import { unlockMain } from './unlock.js'
import { pruneImagesMain } from './prune-images.js'
import { rebalanceMain } from './rebalance.js'
import type { CliControl, CliIo } from './io.js'
import { EXIT, jsonText } from './io.js'

export type { CliControl, CliIo } from './io.js'
export { EXIT, jsonText } from './io.js'

/** The variables the CLI reads secrets (and smoke-url) from: dropped from the environment once read. */
export const SECRET_VARIABLES = ENV_SECRET_INPUTS.map(envName)

export function exitCode(outcome: Outcome): number {
  if (outcome.stopped) return outcome.stopped.kind === 'input' ? EXIT.input : outcome.stopped.kind === 'unreachable' ? EXIT.unreachable : EXIT.failed
  if (outcome.plan) return EXIT.converged
  return outcome.status === 'converged' ? EXIT.converged : EXIT.failed
}

/** What --json prints: the Action's outputs, the stats, the smoke checks, and why the run stopped, if it did. */
export function jsonResult(
  outputs: Record<string, string>,
  outcome: Outcome | undefined,
  error: { kind: string; message: string } | undefined,
  code: number
): object {
  return {
    status: outputs.status ?? null,
    image: outputs.image ?? null,
    digest: outputs.digest ?? null,
    services: outputs.services === undefined ? null : (JSON.parse(outputs.services) as unknown),
    release: outputs.release || null,
    previousRelease: outputs['previous-release'] || null,
    stats: outcome?.stats ?? null,
    startedAt: outcome?.startedAt ?? null,
    phases: outcome?.phases ?? [],
    error: error ?? null,
    exitCode: code,
    plan: outcome?.plan ?? null,
    smoke: outcome?.report?.smoke ?? null,
    pruned: outcome?.pruned ?? null,
    rebalance: outcome?.rebalance ?? null
  }
}

export async function cliMain(argv: string[], given: CliIo, host: Host, adapters: Adapters, control: CliControl = {}): Promise<number> {
  // The CLI runs in workflow steps too: nothing it prints, a release table or a lock holder included, may be a workflow command there.
  const io: CliIo = { stdout: text => given.stdout(inertOutput(text)), stderr: text => given.stderr(inertOutput(text)) }
  if (argv[0] === 'releases') return releasesMain(argv.slice(1), io, host, adapters)
  if (argv[0] === 'unlock') return unlockMain(argv.slice(1), io, host, adapters)
  if (argv[0] === 'prune-images') return pruneImagesMain(argv.slice(1), io, host, adapters)
  if (argv[0] === 'rebalance') return rebalanceMain(argv.slice(1), io, host, adapters, control)
  const refreshCommand = argv[0] === 'refresh-auth'
  if (refreshCommand) argv = ['--refresh-registry-auth=true', ...argv.slice(1)]
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
  } finally {
    // Read: no child, plugin or credential helper needs them in its environment.
    control.forgetEnv?.(SECRET_VARIABLES)
  }
  if (line.help) {
    io.stdout(refreshCommand ? REFRESH_HELP : helpText())
    return 0
  }
  json = line.json
  // The terminal reporter makes every line it prints inert itself: it writes past the io wrapper, which would only do it again.
  const reporter = terminalReporter(json ? given.stderr : given.stdout, { verbose: line.verbose, now: host.now })
  // Mask first: nothing may print before every secret is registered.
  for (const { value } of secretsOf(line.read)) reporter.secret(value)
  try {
    if (wantsRefresh(line.read)) return await refreshAuthMain(line, reporter, io, host, adapters, control)
  } catch (error) {
    if (error instanceof InputError) return refuse(reporter.redact(error.message))
    throw error
  }

  let inputs
  try {
    inputs = getInputs(line.read, { env: host.env, isFile: file => host.files.read(file) !== undefined, readFile: file => readText(file) ?? '' })
  } catch (error) {
    if (error instanceof InputError) return refuse(reporter.redact(error.message))
    throw error
  }
  // Kept here: after a cancel, what the run knew by then is still in --json.
  const sofar = emptyOutcome(host.now())
  const ended = await Promise.race([runDeploy(inputs, host, adapters, reporter, sofar), control.signalled ?? new Promise<never>(() => undefined)])
  if (typeof ended === 'string') {
    reporter.print(
      `Cancelled (${ended}): stopping the docker commands and removing this run's files. Swarm goes on with whatever reached it; nothing is rolled back.`
    )
    await control.cleanUp?.()
    const outputs = { ...Object.fromEntries(deployOutputs(sofar)), status: 'cancelled' }
    const error = { kind: 'cancelled', message: `the run was cancelled (${ended}) before it had a verdict` }
    if (json) io.stdout(jsonText(jsonResult(outputs, undefined, error, EXIT.cancelled), text => reporter.redact(text)) + '\n')
    return EXIT.cancelled
  }
  const outcome = ended
  if (outcome.report) {
    reporter.print('')
    reporter.print(renderText(outcome.report).trimEnd())
  }
  if (outcome.plan && !outcome.stopped) {
    reporter.print('')
    reporter.print(renderPlanText(outcome.plan).trimEnd())
  }
  if (outcome.stopped) reporter.print(`error: ${outcome.stopped.message}`)
  const code = exitCode(outcome)
  if (json) io.stdout(jsonText(jsonResult(Object.fromEntries(deployOutputs(outcome)), outcome, outcome.stopped, code), text => reporter.redact(text)) + '\n')
  return code
}

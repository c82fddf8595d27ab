// `swarm-deploy refresh-auth --stack NAME --registry R ...` (or any command
// line with --refresh-registry-auth): the refresh of the stack's stored
// registry credential, with a terminal reporter. Exit 0 refreshed; 1 failed
// or cancelled; 2 bad input (nothing done); 3 registry or swarm unreachable.
import { InputError } from '../inputs/parse.js'
import { getRefreshInputs } from '../inputs/refresh-inputs.js'
import type { Adapters, Host } from '../ports.js'
import { runRefreshAuth } from '../refresh-auth.js'
import type { RefreshOutcome } from '../refresh-auth.js'
import { renderRefreshText } from '../report/refresh.js'
import type { CommandLine } from './args.js'
import type { CliControl, CliIo } from './io.js'
import { EXIT, jsonText } from './io.js'
import type { TerminalReporter } from './terminal.js'

export const REFRESH_HELP = [
  'Usage: swarm-deploy refresh-auth --stack NAME --registry REGISTRY [--registry-username USER] [connection flags] [--json]',
  '',
  "Logs in to REGISTRY afresh (a new ECR token from the job's AWS credentials, or registry-username with",
  'SWARM_DEPLOY_REGISTRY_PASSWORD or --registry-password-file) and gives each service of the stack whose image',
  'is on REGISTRY the new credential, and nothing else: no new image, no env change, no rollout; running tasks',
  'keep running. Run it on a schedule shorter than the token lives (ECR: 12 hours). The connection flags are',
  'those of a deploy. Exit 0 refreshed; 1 failed; 2 bad input; 3 registry or swarm unreachable.',
  ''
].join('\n')

function exitOf(outcome: RefreshOutcome): number {
  if (outcome.stopped) return outcome.stopped.kind === 'input' ? EXIT.input : outcome.stopped.kind === 'unreachable' ? EXIT.unreachable : EXIT.failed
  return outcome.status === 'refreshed' ? EXIT.converged : EXIT.failed
}

export async function refreshAuthMain(
  line: CommandLine,
  reporter: TerminalReporter,
  io: CliIo,
  host: Host,
  adapters: Adapters,
  control: CliControl
): Promise<number> {
  const result = (outcome: RefreshOutcome | undefined, error: { kind: string; message: string } | undefined, code: number): void => {
    if (!line.json) return
    const json = {
      status: outcome?.status ?? null,
      registryAuthExpires: outcome?.expiresAt ?? null,
      services: outcome?.services ?? [],
      phases: outcome?.phases ?? [],
      error: error ?? null,
      exitCode: code
    }
    io.stdout(jsonText(json, text => reporter.redact(text)) + '\n')
  }
  let inputs
  try {
    inputs = getRefreshInputs(line.read)
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    const message = reporter.redact(error.message)
    io.stderr(`swarm-deploy: ${message}\n`)
    result(undefined, { kind: 'input', message }, EXIT.input)
    return EXIT.input
  }
  const ended = await Promise.race([runRefreshAuth(inputs, host, adapters, reporter), control.signalled ?? new Promise<never>(() => undefined)])
  if (typeof ended === 'string') {
    reporter.print(`Cancelled (${ended}): stopping the docker commands and removing this run's files.`)
    await control.cleanUp?.()
    result(undefined, { kind: 'cancelled', message: `the run was cancelled (${ended})` }, EXIT.cancelled)
    return EXIT.cancelled
  }
  reporter.print('')
  reporter.print(renderRefreshText(ended).trimEnd())
  if (ended.stopped) reporter.print(`error: ${ended.stopped.message}`)
  const code = exitOf(ended)
  result(ended, ended.stopped, code)
  return code
}

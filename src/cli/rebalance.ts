// `swarm-deploy rebalance --stack NAME [--dry-run]`: services spread unevenly
// over the nodes that can take them get a rolling --force update (see
// src/rebalance/). The connection flags, timeout, lock-timeout and
// rollback-on-failure are a deploy's. Exit 0 converged (or nothing to move);
// 1 the judge said otherwise, or cancelled; 2 bad input; 3 swarm unreachable.
import { parseDuration, readBoolean } from '../inputs/parse.js'
import { defaultOf } from '../inputs/table.js'
import type { Adapters, Host } from '../ports.js'
import type { RebalanceOutcome } from '../rebalance/run.js'
import { runRebalance } from '../rebalance/run.js'
import { decisionLine } from '../rebalance/spread.js'
import type { CliControl, CliIo } from './io.js'
import { EXIT, jsonText } from './io.js'
import { readStackCommand } from './stack-command.js'

const HELP = [
  'Usage: swarm-deploy rebalance --stack NAME [--host HOST --user USER ...] [--dry-run] [--timeout 10m] [--json]',
  '',
  'Finds the replicated services of the stack whose running tasks are spread unevenly over the nodes that can',
  'take them (ready, active, of its platform, its constraints and max replicas per node met), for example all 6',
  'on 2 nodes after a third joined, and gives each a rolling --force update with its own update config, so Swarm',
  'starts every task afresh where the service has the fewest; then waits for the verdict, as a deploy does.',
  'Nothing else of the service changes. --dry-run says what would move from where to where, and changes nothing.',
  'The connection flags are those of a deploy. Exit 0 converged or nothing to move; 1 failed; 2 bad input; 3 unreachable.',
  ''
].join('\n')

function exitOf(outcome: RebalanceOutcome): number {
  if (outcome.stopped) return outcome.stopped.kind === 'input' ? EXIT.input : outcome.stopped.kind === 'unreachable' ? EXIT.unreachable : EXIT.failed
  return outcome.status === 'converged' ? EXIT.converged : EXIT.failed
}

export async function rebalanceMain(argv: string[], io: CliIo, host: Host, adapters: Adapters, control: CliControl = {}): Promise<number> {
  const command = readStackCommand('rebalance', HELP, argv, io, host, (line, target) => {
    const duration = (name: string): number => parseDuration(name, line.read(name) || defaultOf(name))
    const flags = { rollbackOnFailure: readBoolean(line.read, 'rollback-on-failure'), dryRun: readBoolean(line.read, 'dry-run') }
    return { target, timeoutMs: duration('timeout'), lockTimeoutMs: duration('lock-timeout'), ...flags }
  })
  if (typeof command === 'number') return command
  const { line, reporter, stack, settings } = command
  const inputs = { ...settings, stack }
  const ended = await Promise.race([runRebalance(inputs, host, adapters, reporter), control.signalled ?? new Promise<never>(() => undefined)])
  if (typeof ended === 'string') {
    reporter.print(`Cancelled (${ended}): Swarm goes on with the updates that reached it; nothing is rolled back.`)
    await control.cleanUp?.()
    return EXIT.cancelled
  }
  const code = exitOf(ended)
  const { result } = ended
  if (line.json) {
    const json = {
      status: ended.status ?? null,
      services: result?.decisions ?? [],
      after: result?.after ?? [],
      verdict: result?.verdict ? { status: result.verdict.status, summary: result.verdict.summary } : null,
      phases: ended.phases,
      error: ended.stopped ?? null,
      exitCode: code
    }
    io.stdout(jsonText(json, text => reporter.redact(text)) + '\n')
  } else if (result) {
    const lines = result.decisions.map(decisionLine)
    if (result.verdict) lines.push(`Verdict: ${result.verdict.status}. ${result.verdict.summary}`)
    io.stdout(reporter.redact(lines.join('\n')) + '\n')
  }
  if (ended.stopped) io.stderr(`swarm-deploy rebalance: ${ended.stopped.message}\n`)
  return code
}

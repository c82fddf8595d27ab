// `swarm-deploy releases --stack NAME [--json]`: the stack's releases, newest
// first, as a table or JSON. The connection flags are the deploy's.
import { readTarget } from '../inputs/inputs.js'
import { InputError, parseStackName } from '../inputs/parse.js'
import type { Adapters, Host } from '../ports.js'
import { listReleases } from '../release/list.js'
import { releaseSummary, releaseTable } from '../release/select.js'
import { secretsOf } from '../secrets.js'
import type { CliIo } from './main.js'
import { parseCommandLine, UsageError } from './args.js'
import { terminalReporter } from './terminal.js'

export async function releasesMain(argv: string[], io: CliIo, host: Host, adapters: Adapters): Promise<number> {
  const readText = (file: string): string | undefined => host.files.read(file)?.toString('utf8')
  let line
  try {
    line = parseCommandLine(argv, { env: host.env, readFile: readText })
  } catch (error) {
    if (error instanceof UsageError || error instanceof InputError) {
      io.stderr(`swarm-deploy releases: ${error.message}\n`)
      return 2
    }
    throw error
  }
  if (line.help) {
    io.stdout(
      'Usage: swarm-deploy releases --stack NAME [--host HOST --user USER ...] [--json]\n\nLists the releases recorded on the swarm for a stack, newest first. The connection flags are those of a deploy.\n'
    )
    return 0
  }
  const reporter = terminalReporter(io.stderr, { verbose: line.verbose, now: host.now })
  for (const { value } of secretsOf(line.read)) reporter.secret(value)
  let target, stack
  try {
    stack = parseStackName('stack', line.read('stack'))
    target = readTarget(line.read)
  } catch (error) {
    if (error instanceof InputError) {
      io.stderr(`swarm-deploy releases: ${reporter.redact(error.message)}\n`)
      return 2
    }
    throw error
  }
  let releases
  try {
    releases = await listReleases(target, stack, host, adapters, reporter)
  } catch (error) {
    io.stderr(`swarm-deploy releases: cannot read the releases of ${stack}: ${reporter.redact((error as Error).message)}\n`)
    return 3
  }
  if (line.json) io.stdout(JSON.stringify(releases.map(releaseSummary)) + '\n')
  else if (releases.length === 0) io.stdout(`Stack ${stack} has no releases.\n`)
  else io.stdout(releaseTable(releases))
  return 0
}

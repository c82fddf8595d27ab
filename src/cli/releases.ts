// `swarm-deploy releases --stack NAME [--json]`: the stack's releases, newest
// first, as a table or JSON. The connection flags are the deploy's.
import type { Adapters, Host } from '../ports.js'
import { listReleases } from '../release/list.js'
import { releaseSummary, releaseTable } from '../release/select.js'
import type { CliIo } from './main.js'
import { readStackCommand } from './stack-command.js'

const HELP =
  'Usage: swarm-deploy releases --stack NAME [--host HOST --user USER ...] [--json]\n\nLists the releases recorded on the swarm for a stack, newest first. The connection flags are those of a deploy.\n'

export async function releasesMain(argv: string[], io: CliIo, host: Host, adapters: Adapters): Promise<number> {
  const command = readStackCommand('releases', HELP, argv, io, host)
  if (typeof command === 'number') return command
  const { line, reporter, stack, target } = command
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

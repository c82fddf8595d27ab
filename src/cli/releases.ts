// `swarm-deploy releases --stack NAME [--json]`: the stack's releases, newest
// first, as a table or JSON. The connection flags are the deploy's.
import type { Adapters, Host } from '../ports.js'
import { readReleaseKey } from '../inputs/inputs.js'
import { listReleases } from '../release/list.js'
import { releaseKeysOf } from '../release/proof.js'
import { refusedSummary, releaseSummary, releaseTable } from '../release/select.js'
import type { CliIo } from './io.js'
import { readStackCommand } from './stack-command.js'

const HELP =
  'Usage: swarm-deploy releases --stack NAME [--host HOST --user USER ...] [--json]\n\nLists the releases recorded on the swarm for a stack, newest first, and the records it refused (no valid proof: see release-key). The connection flags are those of a deploy.\n'

export async function releasesMain(argv: string[], io: CliIo, host: Host, adapters: Adapters): Promise<number> {
  const command = readStackCommand('releases', HELP, argv, io, host, (line, target) => releaseKeysOf(readReleaseKey(line.read), target))
  if (typeof command === 'number') return command
  const { line, reporter, stack, target, settings: keys } = command
  let history
  try {
    history = await listReleases(target, stack, keys, host, adapters, reporter)
  } catch (error) {
    io.stderr(`swarm-deploy releases: cannot read the releases of ${stack}: ${reporter.redact((error as Error).message)}\n`)
    return 3
  }
  const { releases, refused } = history
  if (line.json) io.stdout(JSON.stringify([...releases.map(releaseSummary), ...refused.map(refusedSummary)]) + '\n')
  else if (releases.length + refused.length === 0) io.stdout(`Stack ${stack} has no releases.\n`)
  else io.stdout(releaseTable(releases, refused))
  if (keys.source === 'none' && refused.length > 0)
    io.stderr('swarm-deploy releases: no release-key and no ssh-key: no record can be trusted. Set release-key.\n')
  return 0
}

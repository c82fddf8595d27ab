// `swarm-deploy prune-images --stack NAME [--dry-run] [--json]`: the image
// cleanup a deploy with prune-images runs after it converged, on its own, for
// a stack that does not deploy often. The releases kept are those on the
// swarm now. The connection flags are the deploy's; it holds the deploy lock
// (a preview does not), so it never runs beside a deploy of the stack.
import { readPruneImages, readReleaseKey } from '../inputs/inputs.js'
import { parseDuration, readBoolean } from '../inputs/parse.js'
import { defaultOf } from '../inputs/table.js'
import type { Adapters, Host } from '../ports.js'
import { JOB_DEADLINE_MS, pruneImages } from '../prune-images/prune.js'
import { releaseKeysOf } from '../release/proof.js'
import { loadReleases } from '../release/store.js'
import { pruneLines } from '../report/prune-images.js'
import { withSession } from '../session.js'
import type { CliIo } from './io.js'
import { EXIT, jsonText } from './io.js'
import { readStackCommand } from './stack-command.js'

const HELP =
  "Usage: swarm-deploy prune-images --stack NAME [--host HOST --user USER ...] [--dry-run] [--prune-image IMAGE] [--prune-docker-socket PATH] [--json]\n\nRemoves on every ready node the images of the stack's repositories that nothing needs (tasks on the node, any service's current or previous spec, the stack's releases), as a deploy with prune-images does after it converged. --dry-run lists them and removes nothing. The connection flags are those of a deploy.\n"

export async function pruneImagesMain(argv: string[], io: CliIo, host: Host, adapters: Adapters): Promise<number> {
  const command = readStackCommand('prune-images', HELP, argv, io, host, (line, target) => ({
    prune: readPruneImages(name => (name === 'prune-images' ? 'true' : line.read(name)))!,
    keys: releaseKeysOf(readReleaseKey(line.read), target),
    dryRun: readBoolean(line.read, 'dry-run'),
    lockWaitMs: parseDuration('lock-timeout', line.read('lock-timeout') || defaultOf('lock-timeout'))
  }))
  if (typeof command === 'number') return command
  const { line, reporter, stack, target } = command
  const { prune, keys, dryRun, lockWaitMs } = command.settings
  // Both jobs' deadlines, and time to read the swarm and remove them.
  const lock = dryRun ? undefined : { stack, ttlMs: 2 * JOB_DEADLINE_MS + 60_000, waitMs: lockWaitMs }
  let report
  try {
    report = await withSession(target, { host, adapters, reporter }, { quiet: true, lock }, async ({ api, cli, tunnel }) => {
      const { releases } = await loadReleases(api, stack, keys)
      const images = releases.flatMap(r => r.services.map(s => s.image))
      const request = { stack, ...prune, keptReleases: releases, releaseImages: images, dryRun }
      return pruneImages(request, { api, cli, host, reporter, socketPath: tunnel.socketPath })
    })
  } catch (error) {
    io.stderr(`swarm-deploy prune-images: cannot clean the images of ${stack}: ${reporter.redact((error as Error).message)}\n`)
    return EXIT.unreachable
  }
  for (const text of pruneLines(report)) reporter.print(text)
  if (line.json) io.stdout(jsonText(report, text => reporter.redact(text)) + '\n')
  return report.status === 'done' || report.status === 'previewed' ? EXIT.converged : EXIT.failed
}

// `swarm-deploy unlock --stack NAME`: removes the stack's deploy lock,
// whoever holds it (a run that died and left it before its expiry), and
// says whose it was. The connection flags are the deploy's.
import { describeHolder, lockName } from '../lock/lock.js'
import { breakLock } from '../lock/store.js'
import type { Adapters, Host } from '../ports.js'
import { withSession } from '../session.js'
import type { CliIo } from './io.js'
import { readStackCommand } from './stack-command.js'

const HELP =
  'Usage: swarm-deploy unlock --stack NAME [--host HOST --user USER ...]\n\nRemoves the deploy lock of a stack (the swarm config <stack>_lock) whoever holds it, and says whose it was. Only for a lock whose run is gone: a running deploy holding it goes on unguarded. The connection flags are those of a deploy.\n'

export async function unlockMain(argv: string[], io: CliIo, host: Host, adapters: Adapters): Promise<number> {
  const command = readStackCommand('unlock', HELP, argv, io, host)
  if (typeof command === 'number') return command
  const { reporter, stack, target } = command
  let removed
  try {
    removed = await withSession(target, { host, adapters, reporter }, { quiet: true }, ({ api }) => breakLock(api, stack))
  } catch (error) {
    io.stderr(`swarm-deploy unlock: cannot remove the deploy lock of ${stack}: ${reporter.redact((error as Error).message)}\n`)
    return 3
  }
  io.stdout(
    removed
      ? reporter.redact(`Removed the deploy lock of stack ${stack} (${lockName(stack)}), held by ${describeHolder(removed)} until ${removed.expires}.\n`)
      : `Stack ${stack} has no deploy lock.\n`
  )
  return 0
}

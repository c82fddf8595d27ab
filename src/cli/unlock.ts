// `swarm-deploy unlock --stack NAME`: removes the stack's deploy lock,
// whoever holds it (a run that died and left it before its expiry), and
// says whose it was. The connection flags are the deploy's.
import { readTarget } from '../inputs/inputs.js'
import { InputError, parseStackName } from '../inputs/parse.js'
import { describeHolder, lockName } from '../lock/lock.js'
import { breakLock } from '../lock/store.js'
import type { Adapters, Host } from '../ports.js'
import { secretsOf } from '../secrets.js'
import { withSwarmApi } from '../swarm/session.js'
import type { CliIo } from './main.js'
import { parseCommandLine, UsageError } from './args.js'
import { terminalReporter } from './terminal.js'

export async function unlockMain(argv: string[], io: CliIo, host: Host, adapters: Adapters): Promise<number> {
  const readText = (file: string): string | undefined => host.files.read(file)?.toString('utf8')
  let line
  try {
    line = parseCommandLine(argv, { env: host.env, readFile: readText })
  } catch (error) {
    if (error instanceof UsageError || error instanceof InputError) {
      io.stderr(`swarm-deploy unlock: ${error.message}\n`)
      return 2
    }
    throw error
  }
  if (line.help) {
    io.stdout(
      'Usage: swarm-deploy unlock --stack NAME [--host HOST --user USER ...]\n\nRemoves the deploy lock of a stack (the swarm config <stack>_lock) whoever holds it, and says whose it was. Only for a lock whose run is gone: a running deploy holding it goes on unguarded. The connection flags are those of a deploy.\n'
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
      io.stderr(`swarm-deploy unlock: ${reporter.redact(error.message)}\n`)
      return 2
    }
    throw error
  }
  let removed
  try {
    removed = await withSwarmApi(target, host, adapters, reporter, api => breakLock(api, stack))
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

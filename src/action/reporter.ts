// The engine's reporter on a GitHub runner: one log group per phase,
// `::add-mask::` for every secret, `::warning::`/`::debug::`, step outputs.
import * as core from '@actions/core'
import type { Reporter } from '../ports.js'

export function actionsReporter(): Reporter {
  const masked = new Set<string>()
  return {
    secret(value) {
      if (masked.has(value)) return
      masked.add(value)
      core.setSecret(value)
    },
    phase: (title, fn) => core.group(title, fn),
    info: line => core.info(line),
    warn: line => core.warning(line),
    debug: line => core.debug(line),
    // The runner shows `[command]` lines as commands.
    command: argv => process.stdout.write(`[command]${argv.join(' ')}\n`),
    stream: (chunk, from) => (from === 'stdout' ? process.stdout : process.stderr).write(chunk),
    output: (name, value) => core.setOutput(name, value)
  }
}

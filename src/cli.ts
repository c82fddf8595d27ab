#!/usr/bin/env node
// `swarm-deploy`: the deploy engine from a shell. See `swarm-deploy --help`.
import './esm-shim.js'
import { processHost, realAdapters } from './adapters.js'
import { cliMain } from './cli/main.js'
import { RunLeftovers, whenSignalled } from './leftovers.js'

const leftovers = new RunLeftovers()
const code = await cliMain(
  process.argv.slice(2),
  { stdout: text => process.stdout.write(text), stderr: text => process.stderr.write(text) },
  processHost(process.env, process.env.SWARM_DEPLOY_TEMP, leftovers),
  realAdapters,
  {
    signalled: whenSignalled(),
    cleanUp: () => leftovers.cleanUp(),
    forgetEnv: names => names.forEach(name => delete process.env[name])
  }
)
process.exitCode = code
// As in the Action: a leaked handle must not keep the command running. A
// cancelled run leaves the engine mid-way: exit at once.
setTimeout(() => process.exit(code), 5_000).unref()
if (leftovers.cancelled) process.exit(code)

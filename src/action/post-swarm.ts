// The post step's part on the swarm: after a main step killed outright (no
// cancel hook ran), mark its release record cancelled and let go of its
// deploy lock, through the same connection inputs. Never fails the job.
import * as core from '@actions/core'
import { processHost, realAdapters } from '../adapters.js'
import { readReleaseKey, readTarget } from '../inputs/inputs.js'
import { releaseKeysOf } from '../release/proof.js'
import { INPUTS } from '../inputs/table.js'
import { RunLeftovers } from '../leftovers.js'
import type { SwarmLeftover } from '../ports.js'
import { secretsOf } from '../secrets.js'
import { settleLeftovers } from '../swarm/cancel-leftovers.js'
import { withSwarmApi } from '../swarm/session.js'
import { actionsReporter } from './reporter.js'

export async function settleMainStep(saved: string): Promise<void> {
  const items = saved === '' ? [] : (JSON.parse(saved) as SwarmLeftover[])
  if (items.length === 0) return
  const reporter = actionsReporter()
  try {
    const raw = new Map(INPUTS.map(spec => [spec.name, core.getInput(spec.name)]))
    const read = (name: string): string => raw.get(name) ?? ''
    for (const { value } of secretsOf(read)) reporter.secret(value)
    const leftovers = new RunLeftovers()
    const host = processHost(process.env, process.env.RUNNER_TEMP, leftovers)
    const target = readTarget(read)
    const keys = releaseKeysOf(readReleaseKey(read), target)
    const lines = await withSwarmApi(target, host, realAdapters, reporter, api => settleLeftovers(api, items, keys))
    for (const line of lines) reporter.info(`${line} (the main step ended without doing it)`)
  } catch (error) {
    reporter.warn(`Could not settle what the main step left on the swarm: ${(error as Error).message}`)
  }
}

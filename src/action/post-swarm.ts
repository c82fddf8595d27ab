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
import { withSession } from '../session.js'
import { actionsReporter } from './reporter.js'

/** The main step's saved list; anything else (a state cut short or changed) is an error, never a guess. */
function parseLeftovers(saved: string): SwarmLeftover[] {
  if (saved === '') return []
  const items = JSON.parse(saved) as unknown
  const valid = (item: unknown): item is SwarmLeftover => {
    const { kind, stack, id } = (item ?? {}) as Partial<Record<keyof SwarmLeftover, unknown>>
    return (kind === 'release' || kind === 'lock') && typeof stack === 'string' && typeof id === 'string'
  }
  if (!Array.isArray(items) || !items.every(valid)) throw new Error('the saved state is not the list of leftovers the main step writes')
  return items
}

export async function settleMainStep(saved: string): Promise<void> {
  const reporter = actionsReporter()
  try {
    // Inside the try: the post step never fails the job, whatever its state holds.
    const items = parseLeftovers(saved)
    if (items.length === 0) return
    const raw = new Map(INPUTS.map(spec => [spec.name, core.getInput(spec.name)]))
    const read = (name: string): string => raw.get(name) ?? ''
    for (const { value } of secretsOf(read)) reporter.secret(value)
    const leftovers = new RunLeftovers()
    const host = processHost(process.env, process.env.RUNNER_TEMP, leftovers)
    const target = readTarget(read)
    const keys = releaseKeysOf(readReleaseKey(read), target)
    const lines = await withSession(target, { host, adapters: realAdapters, reporter }, { quiet: true }, ({ api }) => settleLeftovers(api, items, keys))
    for (const line of lines) reporter.info(`${line} (the main step ended without doing it)`)
  } catch (error) {
    reporter.warn(`Could not settle what the main step left on the swarm: ${(error as Error).message}`)
  }
}

// Poll the swarm until the judge gives a final verdict or the deadline
// passes. Progress is printed when it changes, not on every poll.
import type { Baseline, Deployed, ServiceVerdict, Verdict } from './verdict.js'
import { conclude, isDecided, judge } from './judge.js'
import { seenRunning } from './tasks.js'
import type { Snapshot } from '../swarm/model.js'
import type { SwarmApi } from '../ports.js'
import type { Rollout } from './rollout.js'
import { nextPollIn, settleDue } from './poll-schedule.js'

/** One wait: the rollout's settings (but its timeout, which the deadline is), where it starts and ends, and how it logs and tells time. */
export interface Wait extends Omit<Rollout, 'timeoutMs'> {
  baseline: Baseline
  /** What `docker stack deploy` put on the swarm (deployedOf): the specs this deploy is judged by. */
  deployed: Deployed
  /** Epoch ms when `docker stack deploy` returned. */
  deployedAt: number
  /** Epoch ms after which pending means timed out. */
  deadline: number
  log: (line: string) => void
  /** A snapshot already read (right after the deploy) and when its read began: the first poll, not asked for again. */
  first?: { snapshot: Snapshot; polledAt: number }
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

export interface WatchResult {
  verdict: Verdict
  polls: number
  /** Epoch ms when the verdict was reached. */
  verdictAt: number
}

const HEARTBEAT_MS = 30_000
// Other stacks' reservations change slowly: read while tasks wait for capacity, not on every poll.
const RESERVATIONS_MS = 5_000

export function progressLines(verdict: Verdict): string[] {
  return verdict.services.map(s => `${s.name}: ${s.message}${s.pending.length > 0 ? ` [${s.pending.slice(0, 2).join('; ')}]` : ''}`)
}

/**
 * The deadline passed while the swarm state could not be read (no manager
 * serves, the swarm lost its quorum): timed out, and whether the stack may be
 * partly updated, from the last state that could be read.
 */
export function unreadableVerdict(stack: string, lastError: string, last: Verdict | undefined): Verdict {
  const unfinished = (last?.services ?? []).filter(s => s.change !== 'unchanged' && s.state !== 'converged').map(s => s.name)
  const partly =
    last === undefined
      ? 'Whether its services were updated is unknown'
      : unfinished.length > 0
        ? `The stack may be partly updated: ${unfinished.join(', ')} had not finished updating when the swarm state was last read`
        : 'Its services had all finished updating when the swarm state was last read'
  return {
    status: 'timed-out',
    services: last?.services ?? [],
    summary: `Stack ${stack} timed out: the swarm state could not be read before the deadline (${lastError}). ${partly}; check it (docker stack ps ${stack}) once the swarm answers again.`
  }
}

export async function watch(api: Pick<SwarmApi, 'snapshot' | 'rollback'> & Partial<Pick<SwarmApi, 'reservations'>>, options: Wait): Promise<WatchResult> {
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)))
  let printed = ''
  let lastPrintAt = 0
  let lastError = ''
  let polls = 0
  const rollbacksAsked = new Set<string>()
  let lastVerdict: Verdict | undefined
  let runningSince = new Map<string, number>()
  // Services whose verdict is final are not polled again, so a poll costs
  // what is still changing, not the size of the stack.
  const decided = new Map<string, ServiceVerdict>()
  let judging: string[] | undefined
  let first = options.first
  // What every stack's tasks reserve on each node, for "the most free on any node is …".
  let reserved: { at: number; byNode: Snapshot['reserved'] } | undefined
  const reservations = async (): Promise<Snapshot['reserved']> => {
    if (!api.reservations || !lastVerdict?.services.some(s => s.waitingForCapacity)) return undefined
    if (reserved === undefined || now() - reserved.at >= RESERVATIONS_MS) {
      reserved = { at: now(), byNode: await api.reservations().catch(() => reserved?.byNode) }
    }
    return reserved.byNode
  }
  // When only time decides the pending services (poll-schedule.ts), from the last snapshot.
  let due: ReturnType<typeof settleDue>
  for (;;) {
    // The snapshot shows the swarm somewhere between this time and its reply.
    const polledAt = first?.polledAt ?? now()
    const deadlineReached = polledAt >= options.deadline
    let current: Snapshot | undefined
    try {
      current = first?.snapshot ?? (await api.snapshot(options.stack, judging))
      first = undefined
      const byNode = await reservations()
      if (byNode) current = { ...current, reserved: byNode }
      polls += 1
      lastError = ''
    } catch (error) {
      // A failed poll is never a verdict, and an older snapshot is not judged
      // again: time has moved on since it was read. Retry until the deadline.
      const message = (error as Error).message
      if (message !== lastError) options.log(`Could not read the swarm state (will retry): ${message}`)
      lastError = message
    }
    if (current) {
      // A task is timed from the latest moment it could have been first seen
      // running and judged at the earliest moment of this snapshot, so a slow
      // reply cannot stretch how long a task has proven to stay up.
      runningSince = seenRunning(runningSince, current, now() - options.deployedAt)
      const open = Object.fromEntries(Object.entries(options.deployed).filter(([name]) => !decided.has(name)))
      const clock = {
        sinceDeployMs: polledAt - options.deployedAt,
        runningSince,
        deadlineReached,
        rollbackOnFailure: options.rollbackOnFailure,
        ...(options.capacityTimeoutMs === undefined ? {} : { capacityTimeoutMs: options.capacityTimeoutMs })
      }
      const judged = judge(options.baseline, current, options.stack, clock, open).services
      for (const service of judged) if (isDecided(service)) decided.set(service.name, service)
      judging = judged.filter(s => !decided.has(s.name)).map(s => s.id)
      let verdict = conclude([...decided.values(), ...judged.filter(s => !decided.has(s.name))], options.stack, clock)
      for (const service of verdict.services.filter(s => s.rollbackWanted && !rollbacksAsked.has(s.id))) {
        rollbacksAsked.add(service.id)
        options.log(`Swarm paused the update of ${service.name}; asking it to roll back (rollback-on-failure: true)`)
        try {
          await api.rollback(service.id)
        } catch (error) {
          const summary = `Stack ${options.stack} failed: Swarm paused the update of ${service.name} and the rollback request failed: ${(error as Error).message}. Roll back by hand: docker service rollback ${service.name}`
          verdict = { ...verdict, status: 'failed', summary }
        }
      }
      lastVerdict = verdict
      due = settleDue(verdict, current, options.baseline, runningSince)
      const progress = progressLines(verdict)
      const lines = progress.join('\n')
      if (lines !== printed || now() - lastPrintAt >= HEARTBEAT_MS) {
        const elapsed = Math.round((now() - options.deployedAt) / 1000)
        options.log(`[${elapsed}s]${lines === printed ? ' still waiting:' : ''}\n  ${progress.join('\n  ')}`)
        printed = lines
        lastPrintAt = now()
      }
      if (verdict.status !== 'pending') return { verdict, polls, verdictAt: now() }
    } else if (deadlineReached) {
      return { verdict: unreadableVerdict(options.stack, lastError, lastVerdict), polls, verdictAt: now() }
    }
    await sleep(Math.max(0, Math.min(nextPollIn(options.pollMs, now() - options.deployedAt, due), options.deadline - now())))
  }
}

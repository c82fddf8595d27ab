// When the watcher polls next. Most of a rollout it polls every pollMs; at
// its end only time decides: every task the pending services want runs, and
// what is left is a monitor period (the judge's own, or Swarm's before it
// marks the update completed). That moment is known within a poll, so the
// poll that gives the verdict is aimed at it instead of landing up to a
// whole interval after it.
import type { Snapshot } from '../swarm/model.js'
import { monitorMs } from './spec.js'
import type { Baseline, Verdict } from './verdict.js'

/** The interval while Swarm's completion is due: a poll is three small reads of the services still judged. */
export const FAST_POLL_MS = 50

/**
 * When, in ms since the deploy, the pending services' monitor periods end,
 * if every one of them runs all the tasks it wants (else undefined): a
 * monitor period after the last of their new tasks was first seen running.
 * `swarm`: one of them waits for Swarm to complete its update, which Swarm
 * does a monitor period after it saw that task running, up to a poll before
 * the watcher did.
 */
export function settleDue(
  verdict: Pick<Verdict, 'services'>,
  snapshot: Snapshot,
  baseline: Pick<Baseline, 'taskIds'>,
  runningSince: ReadonlyMap<string, number>
): { at: number; swarm: boolean } | undefined {
  const pending = verdict.services.filter(s => s.state !== 'converged' && s.state !== 'rolled-back')
  if (pending.length === 0 || pending.some(s => s.state !== 'pending' || s.running < s.desired)) return undefined
  const known = new Set(baseline.taskIds)
  let at = 0
  for (const judged of pending) {
    const service = snapshot.services.find(s => s.ID === judged.id)
    const started = snapshot.tasks.flatMap(t => (t.ServiceID === judged.id && !known.has(t.ID) && runningSince.has(t.ID) ? [runningSince.get(t.ID)!] : []))
    // Nothing of this deploy runs (a spec change Swarm has not acted on yet): no end in sight.
    if (!service || started.length === 0) return undefined
    at = Math.max(at, Math.max(...started) + monitorMs(service))
  }
  return { at, swarm: pending.some(s => s.updateState === 'updating') }
}

/**
 * How long to wait before the next poll, `sinceDeployMs` after the deploy.
 * Before the due moment, no longer than until it; for Swarm's completion,
 * every FAST_POLL_MS from a poll before it until a poll after it (bounded:
 * past that, Swarm is late and the usual interval resumes).
 */
export function nextPollIn(pollMs: number, sinceDeployMs: number, due: { at: number; swarm: boolean } | undefined): number {
  if (!due) return pollMs
  const from = due.swarm ? due.at - pollMs - FAST_POLL_MS : due.at
  if (sinceDeployMs < from) return Math.min(pollMs, from - sinceDeployMs)
  if (due.swarm && sinceDeployMs <= due.at + pollMs) return Math.min(pollMs, FAST_POLL_MS)
  return pollMs
}

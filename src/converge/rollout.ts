// The rollout's settings, made once from the inputs. The watcher's options
// and the judge's clock are built from this one object.
import type { Baseline, Deployed } from './verdict.js'
import type { WatchOptions } from './watch.js'

// Three API calls a cycle: a verdict within ~0.3 s of Swarm's decisive moment.
export const POLL_MS = 250

export interface Rollout {
  stack: string
  /** From the start of `docker stack deploy` to the verdict. */
  timeoutMs: number
  pollMs: number
  /** On an update Swarm paused, ask it to roll back (else report failed, leave paused). */
  rollbackOnFailure: boolean
}

export function rolloutOf(inputs: { stack: string; timeoutMs: number; rollbackOnFailure: boolean }): Rollout {
  return { stack: inputs.stack, timeoutMs: inputs.timeoutMs, pollMs: POLL_MS, rollbackOnFailure: inputs.rollbackOnFailure }
}

/** What one wait needs beyond the settings: where it starts and ends, and how it logs and tells time. */
export interface WaitContext {
  baseline: Baseline
  deployed: Deployed
  deployedAt: number
  deadline: number
  log: (line: string) => void
  now: () => number
  sleep: (ms: number) => Promise<void>
}

export function watchOptions(rollout: Rollout, wait: WaitContext): WatchOptions {
  return {
    stack: rollout.stack,
    pollMs: rollout.pollMs,
    rollbackOnFailure: rollout.rollbackOnFailure,
    baseline: wait.baseline,
    deployed: wait.deployed,
    deployedAt: wait.deployedAt,
    deadline: wait.deadline,
    log: wait.log,
    now: wait.now,
    sleep: wait.sleep
  }
}

// The rollout's settings, made once from the inputs. A wait (src/converge/watch.ts)
// is these settings and where it starts and ends.

// Three API calls a cycle: a verdict within ~0.3 s of Swarm's decisive moment.
export const POLL_MS = 250

export interface Rollout {
  stack: string
  /** From the start of `docker stack deploy` to the verdict. */
  timeoutMs: number
  pollMs: number
  /** On an update Swarm paused, ask it to roll back (else report failed, leave paused). */
  rollbackOnFailure: boolean
  /** How long tasks may wait only for capacity before failed (`capacity-timeout`); absent: the judge's default. */
  capacityTimeoutMs?: number
}

export function rolloutOf(inputs: { stack: string; timeoutMs: number; rollbackOnFailure: boolean; capacityTimeoutMs?: number }): Rollout {
  return {
    stack: inputs.stack,
    timeoutMs: inputs.timeoutMs,
    pollMs: POLL_MS,
    rollbackOnFailure: inputs.rollbackOnFailure,
    ...(inputs.capacityTimeoutMs === undefined ? {} : { capacityTimeoutMs: inputs.capacityTimeoutMs })
  }
}

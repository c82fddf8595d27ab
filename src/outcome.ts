// What a deploy ends as, returned once as data: the front ends show it, write
// the Action's outputs and the CLI's --json from it, and pick the exit code.
import type { PushedImage } from './build/image.js'
import type { Diagnosis } from './converge/diagnose.js'
import type { StackStatus, Verdict } from './converge/verdict.js'
import type { PhaseTime, Stopped } from './phases.js'
import type { StageReport } from './deploy/stage-verdict.js'
import type { StackPlan } from './preview/stack-plan.js'
import type { PruneReport } from './prune-images/prune.js'
import type { RebalanceResult } from './rebalance/rebalance.js'
import type { Release } from './release/record.js'
import type { ReportFacts } from './report/summary.js'

export type { PhaseTime, Stopped } from './phases.js'

export interface Stats {
  /** Snapshots read while waiting. */
  polls: number
  /** Engine API calls while waiting, and in the whole run. */
  apiCalls: number
  apiCallsTotal: number
  sshConnections: number
  /** Bytes read from the engine while waiting, and in the whole run; the most engine connections open at once. */
  bytesRead: number
  bytesReadTotal: number
  /** What the first poll of the wait cost (it reads the whole stack; later polls only what is undecided). */
  firstPollApiCalls: number
  firstPollBytesRead: number
  maxChannels: number
  maxRssBytes: number
  /** Epoch ms: `docker stack deploy` returned, and the verdict was reached. */
  deployedAt: number
  verdictAt: number
}

/**
 * What a run ends as: the verdict's status, or `cancelled` (SIGINT or
 * SIGTERM: the front end stopped the run, whatever the swarm was doing; the
 * swarm goes on with what reached it).
 */
export type RunStatus = StackStatus | 'cancelled'

export interface Outcome {
  /** The verdict's status; undefined when the run stopped before there was anything to judge. */
  status: RunStatus | undefined
  verdict: Verdict | undefined
  image: PushedImage | undefined
  diagnoses: Diagnosis[]
  stats: Stats | undefined
  /** What the summary shows, once there is a verdict. */
  report: ReportFacts | undefined
  /** The stack's releases after the run, newest first (once the swarm was reached). */
  releases?: Release[]
  /** Once there is a verdict: the live release after the run, and the one before it (its number, if any). */
  releaseNumbers?: { live: number | undefined; previous: number | undefined }
  stopped: Stopped | undefined
  /** Epoch ms when the run began, and where its time went, phase by phase. */
  startedAt: number
  phases: PhaseTime[]
  /** ISO time the ECR token this run stored in the services stops working (ECR logins only). */
  registryAuthExpires?: string
  /** With dry-run: what a deploy would do; there is no verdict. */
  plan?: StackPlan
  /** A deploy with hooks or waves: each step in order, with its time and verdict (rollback-stack's round after the first's). */
  stages?: StageReport[]
  /** prune-images: the image cleanup's own result (or, with dry-run, its preview); never part of the verdict. */
  pruned?: PruneReport
  /** With rebalance: what was (or, with dry-run, would be) moved, and the verdict on it. */
  rebalance?: RebalanceResult
}

/** A run that has not begun: what it is known to be so far is filled in as it goes. */
export function emptyOutcome(startedAt: number): Outcome {
  return {
    status: undefined,
    verdict: undefined,
    image: undefined,
    diagnoses: [],
    stats: undefined,
    report: undefined,
    stopped: undefined,
    startedAt,
    phases: []
  }
}

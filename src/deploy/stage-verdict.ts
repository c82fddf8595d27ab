// What a staged deploy's steps come to, as data: the verdict of a deploy
// that stopped at a hook or a wave (naming it, its exit code and log tail,
// and the steps left untouched), and each step's line in the summary.
// Pure: verdicts and diagnoses in, a verdict and report rows out.
import type { Diagnosis } from '../converge/diagnose.js'
import type { StackStatus, Verdict } from '../converge/verdict.js'
import { unreachable } from '../exhaustive.js'
import type { Stage, StageKind } from './stage-plan.js'
import { stageName } from './stage-plan.js'

/** One step as the summary shows it. `skipped`: a hook a rollback left out; `not run`: after a step that failed. */
export interface StageReport {
  kind: StageKind
  name: string
  status: StackStatus | 'skipped' | 'not run'
  /** How long the step took, deploy to verdict; absent for a step that did not run. */
  seconds?: number
  /** With on-failure: rollback-stack, the round that put a release back. */
  round?: string
}

const LOG_LINES_IN_VERDICT = 5

/** "exit code 3 on node-1: last log lines: a | b": the failed task a person acts on, in one line. */
export function failureLine(diagnoses: Diagnosis[]): string {
  const first = diagnoses[0]
  if (!first) return ''
  const { failure, logTail } = first
  const exit = failure.exitCode !== undefined ? `exit code ${failure.exitCode}` : failure.error
  const tail = logTail
    .split('\n')
    .filter(line => line.trim() !== '')
    .slice(-LOG_LINES_IN_VERDICT)
  return ` (${exit} on ${failure.node}${tail.length > 0 ? `; last log lines: ${tail.join(' | ')}` : '; no log output'})`
}

/**
 * The verdict of a deploy that stopped at `stage`: its own verdict's status
 * and services, with a summary that names the step, how its task failed, and
 * the steps that were not run.
 */
export function stoppedVerdict(stack: string, stage: Stage, verdict: Verdict, diagnoses: Diagnosis[], notRun: Stage[]): Verdict {
  const rest = notRun.length > 0 ? ` Not run: ${notRun.map(stageName).join('; ')}.` : ''
  const prefix = `Stack ${stack} `
  const why = verdict.summary.startsWith(prefix) ? verdict.summary.slice(prefix.length) : verdict.summary
  switch (stage.kind) {
    case 'pre-deploy':
      return {
        ...verdict,
        summary: `Stack ${stack} ${verdict.status}: ${stageName(stage)} did not complete${failureLine(diagnoses)}. Nothing else of the stack was changed; the hook's service is kept for inspection until the next deploy.${rest}`
      }
    case 'wave':
      return { ...verdict, summary: `Stack ${stack} ${verdict.status} at ${stageName(stage)}: ${why}${rest}` }
    case 'post-deploy':
      return {
        ...verdict,
        summary: `Stack ${stack} ${verdict.status}: ${stageName(stage)} did not complete${failureLine(diagnoses)}, after the stack's services converged.`
      }
    default:
      return unreachable(stage.kind)
  }
}

/** The stack's verdict with a post-deploy hook's: the services of both, and the hook's status if it did not complete. */
export function withPostDeploy(stack: string, stage: Stage, stackVerdict: Verdict, hook: Verdict, diagnoses: Diagnosis[]): Verdict {
  const services = [...stackVerdict.services, ...hook.services].sort((a, b) => a.name.localeCompare(b.name))
  if (hook.status === 'converged') return { ...stackVerdict, services }
  return { ...stoppedVerdict(stack, stage, hook, diagnoses, []), services }
}

/** The summary's rows for the steps that did not run: after a failed one, or hooks a rollback left out. */
export function notRunReports(stages: Stage[], status: 'skipped' | 'not run', round?: string): StageReport[] {
  return stages.map(stage => ({ kind: stage.kind, name: stageName(stage), status, ...(round ? { round } : {}) }))
}

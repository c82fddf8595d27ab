// What a person needs to act on a failed round, printed before the error:
// the failed tasks of this deploy with their log tails.
import type { Diagnosis } from '../converge/diagnose.js'
import { describeFailure, diagnose } from '../converge/diagnose.js'
import type { Verdict } from '../converge/verdict.js'
import type { Reporter, SwarmApi } from '../ports.js'
import type { Secrets } from '../secrets.js'
import { redactStrings } from '../secrets.js'
import type { SmokeResult } from '../smoke/decide.js'
import { isSubnetOverlap, overlapAdvice } from './subnet-overlap.js'

/**
 * Whether a deploy's verdict calls for the failed tasks. Not when it is
 * converged, nor when only its smoke check failed: the smoke check runs once
 * the rollout converged, so no task of it failed, and the check's phase has
 * already printed each URL's answer and body.
 */
export function needsDiagnostics(judged: { verdict: Verdict; smoke?: SmokeResult }): boolean {
  return judged.verdict.status !== 'converged' && judged.smoke?.passed !== false
}

/** Failed tasks with their log tails, printed before the error and kept for the summary. */
export async function showDiagnostics(
  api: SwarmApi,
  verdict: Verdict,
  deployStarted: number,
  secrets: Secrets,
  reporter: Reporter,
  stack: string
): Promise<Diagnosis[]> {
  const found = await explained(api, stack, await diagnose(api, verdict, Math.floor(deployStarted / 1000) - 5))
  const clean = found.map(d => redactStrings(d, text => secrets.redact(text)))
  for (const { failure, logTail, advice } of clean) {
    reporter.info(describeFailure(failure))
    if (advice) reporter.info(`    → ${advice}`)
    reporter.info(
      logTail === ''
        ? '    (no log output since the deploy began)'
        : logTail
            .split('\n')
            .map(l => `    | ${l}`)
            .join('\n')
    )
  }
  if (clean.length === 0) reporter.info('No failed task of this deploy to show.')
  return clean
}

/** A task refused a subnet still held elsewhere: which network holds it, read from the networks only then. */
async function explained(api: Pick<SwarmApi, 'networks'>, stack: string, found: Diagnosis[]): Promise<Diagnosis[]> {
  if (!found.some(d => isSubnetOverlap(d.failure.error))) return found
  const networks = await api.networks().catch(() => undefined)
  if (!networks) return found
  return found.map(d => {
    const advice = overlapAdvice(d.failure, stack, networks)
    return advice ? { ...d, advice } : d
  })
}

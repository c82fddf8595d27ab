// on-failure: rollback-stack: after a round that did not converge, the last
// converged release goes back for every service, as a second round of the
// same deploy (a rollback is a deploy of a recorded release).
import type { Diagnosis } from '../converge/diagnose.js'
import type { Verdict } from '../converge/verdict.js'
import type { DeployRun } from '../deploy/deploy-and-judge.js'
import { deployAndJudge } from '../deploy/deploy-and-judge.js'
import { needsDiagnostics, showDiagnostics } from '../deploy/diagnostics.js'
import { existingObjects, hidePassed } from '../deploy/source.js'
import type { SmokeCheckReport } from '../report/smoke.js'
import type { Release } from './record.js'
import { rollbackSource } from './rollback.js'
import { liveRelease } from './select.js'
import type { ReleaseHistory } from './store.js'
import { setStatus } from './store.js'

/** What the deploy's rounds came to: the verdict it ends with, and what the summary shows of each round. */
export interface Rounds {
  verdict: Verdict
  /** The first round's verdict, when a stack rollback followed it. */
  firstVerdict?: Verdict
  /** The stack's releases after the rounds, newest first. */
  releases: Release[]
  diagnoses: Diagnosis[]
  smokeChecks: SmokeCheckReport[]
  /** The round stopped before it changed any service (a pre-deploy hook failed): there is nothing to put back. */
  untouched?: boolean
}

/** The rounds as they are; or, when the first failed and rollback-stack is set, with the second round that puts the last converged release back. */
export async function rollbackStack(run: DeployRun, rounds: Rounds, first: Release | undefined, known: ReleaseHistory, workdir: string): Promise<Rounds> {
  const { plan, api, host, reporter, secrets } = run
  const { inputs } = plan
  const { verdict } = rounds
  if (verdict.status === 'converged' || inputs.onFailure !== 'rollback-stack' || rounds.untouched) return rounds
  const target = liveRelease(known.releases)
  if (!target) {
    reporter.warn(
      `on-failure: rollback-stack: stack ${inputs.stack} has no converged release${known.refused.length > 0 ? ' this run trusts' : ''} to go back to; leaving it as it is`
    )
    return rounds
  }
  hidePassed(plan, target, secrets)
  reporter.info(`Stack ${inputs.stack} ${verdict.status}: putting release #${target.number} back for every service (on-failure: rollback-stack)`)
  const back = await rollbackSource(target, plan.values, await existingObjects(api, inputs.stack), workdir, host.files)
  const releases = [...rounds.releases]
  if (first) releases[0] = await setStatus(api, first, 'rolled-back', plan.releaseKeys).catch(() => first)
  const second = await deployAndJudge({ ...run, deadline: host.now() + plan.rollout.timeoutMs }, back, { releases, refused: known.refused })
  if (second.release) releases.unshift(second.release)
  const smokeChecks = second.smoke
    ? [...rounds.smokeChecks, { title: `Smoke check of release #${target.number}, put back`, result: second.smoke }]
    : rounds.smokeChecks
  const diagnoses = needsDiagnostics(second)
    ? [
        ...rounds.diagnoses,
        ...(await reporter.phase('Diagnostics', () => showDiagnostics(api, second.verdict, second.deployStarted, secrets, reporter, inputs.stack)))
      ]
    : rounds.diagnoses
  const ended: Verdict =
    second.verdict.status === 'converged'
      ? { ...second.verdict, status: 'rolled-back', summary: `Stack ${inputs.stack} was rolled back to release #${target.number}: ${verdict.summary}` }
      : {
          ...second.verdict,
          summary: `Stack ${inputs.stack} ${verdict.status} and putting release #${target.number} back ${second.verdict.status}: ${second.verdict.summary}`
        }
  return { verdict: ended, firstVerdict: verdict, releases, diagnoses, smokeChecks }
}

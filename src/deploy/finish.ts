// The end of a deploy that reached a verdict: the outcome and its outputs,
// the GitHub Deployment's status, the summary's facts, then the releases kept
// and, after a converged deploy, the versions nothing uses any more.
import type { Deployment } from '../github/deployments.js'
import type { Release } from '../release/record.js'
import { objectsOf } from '../release/record.js'
import { liveRelease } from '../release/select.js'
import type { Rounds } from '../release/stack-rollback.js'
import { pruneReleases } from '../release/store.js'
import { releaseRow } from '../report/releases.js'
import type { DeployRun } from './deploy-and-judge.js'
import { pruneVersions } from './prune-versions.js'
import { pruneAfterDeploy } from '../prune-images/deploy-step.js'

export interface Finish {
  rounds: Rounds
  /** The live release before this run. */
  previous: Release | undefined
  deployment: Deployment | undefined
  /** Epoch ms the run's work began: the summary's seconds. */
  started: number
}

export async function finish(run: DeployRun, { rounds, previous, deployment, started }: Finish): Promise<void> {
  const { plan, api, tunnel, host, reporter, outcome } = run
  const { inputs } = plan
  const { verdict, releases, diagnoses, smokeChecks, firstVerdict } = rounds
  outcome.verdict = verdict
  outcome.status = verdict.status
  outcome.diagnoses = diagnoses
  await deployment?.finish(verdict.status === 'converged', verdict.summary)

  const live = liveRelease(releases)
  outcome.releaseNumbers = { live: live?.number, previous: previous?.number }
  outcome.releases = releases
  outcome.report = {
    stack: inputs.stack,
    target: tunnel.description,
    image: outcome.image?.pinned,
    verdict,
    diagnoses,
    seconds: Math.round((host.now() - started) / 1000),
    releases: releases.slice(0, 5).map(releaseRow),
    ...(firstVerdict ? { firstVerdict } : {}),
    ...(outcome.registryAuthExpires ? { registryAuthExpires: outcome.registryAuthExpires } : {}),
    ...(smokeChecks.length > 0 ? { smoke: smokeChecks } : {}),
    ...(outcome.stages ? { stages: outcome.stages } : {})
  }

  const kept = await pruneReleases(api, releases, inputs.keepReleases, line => reporter.info(line))
  if (verdict.status === 'converged') {
    reporter.info(verdict.summary)
    const keep = new Set(kept.flatMap(objectsOf))
    await reporter.phase('Remove unused secret and config versions', () => pruneVersions(api, inputs.stack, reporter, keep))
    await pruneAfterDeploy(run, kept, releases)
  }
}

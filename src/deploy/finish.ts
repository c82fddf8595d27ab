// The end of a deploy that reached a verdict: the outcome and its outputs,
// the GitHub Deployment's status, the summary's facts, then the releases kept
// and, after a converged deploy, the versions and images nothing uses any more.
import type { Deployment } from '../github/deployments.js'
import type { Release } from '../release/record.js'
import { objectsOf } from '../release/record.js'
import { liveRelease } from '../release/select.js'
import type { Rounds } from '../release/stack-rollback.js'
import { keptReleases, pruneReleases } from '../release/store.js'
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
  // GitHub's Deployment status and the swarm's clean-up touch different services: at once, so the
  // run ends when the slower is done, not after both (the deploy lock is held until then).
  const reported = deployment?.finish(verdict.status === 'converged', verdict.summary)

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

  // The releases kept are known before any is removed, and the versions they use with them.
  const removed: string[] = []
  const pruned = pruneReleases(api, releases, inputs.keepReleases, line => removed.push(line))
  let cleanup: Promise<void> | undefined
  if (verdict.status === 'converged') {
    reporter.info(verdict.summary)
    const kept = keptReleases(releases, inputs.keepReleases)
    const keep = new Set(kept.flatMap(objectsOf))
    // The image cleanup after the versions: each is a phase of its own in the log.
    cleanup = reporter
      .phase('Remove unused secret and config versions', () => pruneVersions(api, inputs.stack, reporter, keep))
      .then(() => pruneAfterDeploy(run, kept, releases))
  }
  const settled = await Promise.allSettled([reported, pruned, cleanup])
  for (const line of removed) reporter.info(line)
  // The first failure in the order they used to run in, once none is still using the session.
  const failed = settled.find(s => s.status === 'rejected')
  if (failed) throw failed.reason
}

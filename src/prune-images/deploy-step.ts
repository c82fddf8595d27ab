// prune-images as a step of the deploy (src/engine.ts, src/deploy/finish.ts):
// after a converged deploy, with the releases it kept; in a preview, the
// listing only, decided as things will be once the previewed deploy converged.
import type { DeployRun } from '../deploy/deploy-run.js'
import type { StackPlan } from '../preview/stack-plan.js'
import type { Release } from '../release/record.js'
import { pruneLines } from '../report/prune-images.js'
import type { PruneReport, PruneRequest } from './prune.js'
import { pruneImages } from './prune.js'

type Releases = ReadonlyArray<Pick<Release, 'services'>>

const imagesOf = (releases: Releases): string[] => releases.flatMap(r => r.services.map(s => s.image))

async function step(run: DeployRun, title: string, request: PruneRequest): Promise<PruneReport> {
  const { cli, api, host, reporter, tunnel } = run
  return reporter.phase(title, async () => {
    const report = await pruneImages(request, { cli, api, host, reporter, socketPath: tunnel.socketPath })
    for (const line of pruneLines(report)) reporter.info(line)
    return report
  })
}

/** After a converged deploy: `kept` the releases pruneReleases kept, `all` every release the run knew (which repositories are the stack's). */
export async function pruneAfterDeploy(run: DeployRun, kept: Releases, all: Releases): Promise<void> {
  const wanted = run.plan.inputs.pruneImages
  if (!wanted) return
  const request = { stack: run.plan.inputs.stack, ...wanted, keptReleases: [...kept], releaseImages: imagesOf(all), dryRun: false }
  run.outcome.pruned = await step(run, 'Remove unused images', request)
}

/** dry-run: what the cleanup after this deploy would remove, from the listing alone. */
export async function previewPrune(run: DeployRun, plan: StackPlan, releases: Releases): Promise<void> {
  const wanted = run.plan.inputs.pruneImages
  if (!wanted) return
  const { stack, keepReleases } = run.plan.inputs
  const deploying = plan.services.filter(s => s.action !== 'remove')
  const planned = { services: new Set(deploying.map(s => `${stack}_${s.name}`)), images: deploying.map(s => s.image), keepReleases }
  const request = { stack, ...wanted, keptReleases: [...releases], releaseImages: imagesOf(releases), dryRun: true, planned }
  run.outcome.pruned = await step(run, 'Preview the image cleanup', request)
}

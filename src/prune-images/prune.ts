// prune-images: after a converged deploy (or on its own, `swarm-deploy
// prune-images`), the images of the stack's repositories that nothing needs
// are removed on every node that is ready and active. Swarm has no API to
// another node's images, so two short jobs do it: one lists each node's
// images, the run decides (decide.ts), and one removes exactly the IDs it
// was given on its node. A preview runs only the listing. Its result is its
// own: nothing here changes the deploy's verdict, and nothing is thrown.
import type { DockerCli, Host, Reporter, SwarmApi } from '../ports.js'
import type { Node, Snapshot } from '../swarm/model.js'
import type { ImageRow, KeepReason, NodeDecision, PruneFacts } from './decide.js'
import { afterDeploy, decidePrune } from './decide.js'
import type { JobDeps, NodeRun } from './job.js'
import { removeLeftoverJobs, runJob } from './job.js'
import { readListing, readRemoval } from './job-spec.js'

/** Each job's own deadline: the first run on a node may pull the job's image. */
export const JOB_DEADLINE_MS = 120_000

export interface PrunedImage {
  id: string
  /** Its tags, or else its digests: what a person recognises it by. */
  names: string[]
  size: number
}

export interface NodePrune {
  node: string
  hostname: string
  /** `cleaned` (or `previewed`), `skipped` (down, drained, paused) or `failed` (unreachable, job not run, timed out). */
  state: 'cleaned' | 'previewed' | 'skipped' | 'failed'
  why?: string
  /** Removed, or with a preview what would be. */
  removed: PrunedImage[]
  /** Bytes of the removed images (`docker image inspect`'s size; a layer another image shares stays on disk). */
  bytesFreed: number
  /** Left by the node's engine (a container holds it): the run went on. */
  refused: Array<PrunedImage & { why: string }>
  /** Images of the stack's repositories that stay, and why. */
  kept: Array<PrunedImage & { why: KeepReason }>
}

export interface PruneReport {
  /** `done` every ready node was cleaned; `partial` some could not be; `failed` none; `previewed` a dry run. */
  status: 'done' | 'partial' | 'failed' | 'previewed'
  nodes: NodePrune[]
  /** Why it failed as a whole. */
  message?: string
}

export interface PruneRequest {
  stack: string
  /** The job's image and each node's engine socket (prune-image, prune-docker-socket). */
  image: string
  socket: string
  /** The stack's kept releases (newest first) and the images of all its releases. */
  keptReleases: Array<{ services: Array<{ image: string }> }>
  releaseImages: string[]
  /** List only: what would be removed. */
  dryRun: boolean
  /** A deploy's preview: what it would deploy, so the decision is the one after it converged. */
  planned?: { services: Set<string>; images: string[]; keepReleases: number }
}

export interface PruneDeps extends Omit<JobDeps, 'api'> {
  api: Pick<SwarmApi, 'serviceTasks' | 'taskLogs' | 'wholeSwarm'>
  cli: DockerCli
  host: Pick<Host, 'now' | 'sleep'>
  reporter: Pick<Reporter, 'info' | 'warn' | 'debug'>
}

const hostnameOf = (node: Node): string => node.Description?.Hostname ?? node.ID

/** Why a node gets no job, or undefined when it is ready and active. */
export function skipReason(node: Node): string | undefined {
  if (node.Status.State !== 'ready') return `node is ${node.Status.State}`
  const availability = node.Spec?.Availability ?? 'active'
  return availability === 'active' ? undefined : `node is ${availability === 'drain' ? 'drained' : 'paused'}`
}

const shown = (image: ImageRow): PrunedImage => ({ id: image.id, names: image.tags.length > 0 ? image.tags : image.digests, size: image.size })

function factsOf(swarm: Snapshot, request: PruneRequest): PruneFacts {
  const facts = { stack: request.stack, services: swarm.services, tasks: swarm.tasks, keptReleases: request.keptReleases, releaseImages: request.releaseImages }
  const planned = request.planned
  return planned ? afterDeploy(facts, planned.services, planned.images, planned.keepReleases) : facts
}

export async function pruneImages(request: PruneRequest, deps: PruneDeps): Promise<PruneReport> {
  try {
    return await prune(request, deps)
  } catch (error) {
    const message = (error as Error).message
    deps.reporter.warn(`prune-images: ${message}`)
    return { status: 'failed', nodes: [], message }
  }
}

async function prune(request: PruneRequest, deps: PruneDeps): Promise<PruneReport> {
  const { api, host, reporter } = deps
  await removeLeftoverJobs(request.stack, deps)
  const swarm = await api.wholeSwarm()
  const reports = new Map<string, NodePrune>()
  const blank = (node: Node, state: NodePrune['state'], why?: string): NodePrune => ({
    node: node.ID,
    hostname: hostnameOf(node),
    state,
    ...(why ? { why } : {}),
    removed: [],
    bytesFreed: 0,
    refused: [],
    kept: []
  })
  const ready = swarm.nodes.filter(n => skipReason(n) === undefined)
  for (const node of swarm.nodes) {
    const why = skipReason(node)
    if (why) {
      reports.set(node.ID, blank(node, 'skipped', why))
      reporter.debug(`${hostnameOf(node)}: skipped (${why})`)
    }
  }
  const skip = swarm.nodes.filter(n => !ready.includes(n)).map(n => n.ID)
  const runId = host.now().toString(36)
  const job = { stack: request.stack, image: request.image, socket: request.socket, runId }

  const listings = new Map<string, ImageRow[]>()
  for (const run of await runJob(
    { ...job, kind: 'list', skip },
    ready.map(n => n.ID),
    host.now() + JOB_DEADLINE_MS,
    deps
  )) {
    const node = ready.find(n => n.ID === run.node)!
    const rows = 'log' in run ? readListing(run.log) : undefined
    if (rows) listings.set(run.node, rows)
    else reports.set(run.node, blank(node, 'failed', 'problem' in run ? `listing: ${run.problem}` : 'listing: the job did not get to its end'))
  }
  const decided = decidePrune(factsOf(swarm, request), listings)
  const byId = new Map(swarm.nodes.map(n => [n.ID, n]))
  for (const decision of decided) {
    const report = blank(byId.get(decision.node)!, request.dryRun ? 'previewed' : 'cleaned')
    report.kept = decision.kept.map(k => ({ ...shown(k.image), why: k.why }))
    if (request.dryRun) {
      report.removed = decision.remove.map(shown)
      report.bytesFreed = report.removed.reduce((sum, i) => sum + i.size, 0)
    }
    reports.set(decision.node, report)
  }
  if (!request.dryRun) await remove(request, decided, { ...job, skip }, reports, deps)
  const nodes = swarm.nodes.map(n => reports.get(n.ID)!).sort((a, b) => a.hostname.localeCompare(b.hostname))
  const failed = nodes.filter(n => n.state === 'failed').length
  const status = request.dryRun ? 'previewed' : failed === 0 ? 'done' : failed === ready.length ? 'failed' : 'partial'
  return { status, nodes }
}

/**
 * The remove job, on the nodes with something to remove. The swarm is read
 * again first: a task started since the listing keeps its image.
 */
async function remove(
  request: PruneRequest,
  decided: NodeDecision[],
  job: { stack: string; image: string; socket: string; runId: string; skip: string[] },
  reports: Map<string, NodePrune>,
  deps: PruneDeps
): Promise<void> {
  const fresh = decidePrune(factsOf(await deps.api.wholeSwarm(), request), new Map(decided.map(d => [d.node, [...d.remove, ...d.kept.map(k => k.image)]])))
  const stillUnused = new Map(fresh.map(d => [d.node, new Set(d.remove.map(i => i.id))]))
  const ids = new Map(decided.map(d => [d.node, d.remove.filter(i => stillUnused.get(d.node)?.has(i.id)).map(i => i.id)]))
  const nodes = [...ids].filter(([, list]) => list.length > 0).map(([node]) => node)
  if (nodes.length === 0) return deps.reporter.info('No image to remove on any node.')
  const others = [...reports.keys()].filter(n => !nodes.includes(n))
  const runs: NodeRun[] = await runJob({ ...job, kind: 'remove', skip: others, remove: ids }, nodes, deps.host.now() + JOB_DEADLINE_MS, deps)
  for (const run of runs) {
    const report = reports.get(run.node)!
    const images = new Map(decided.find(d => d.node === run.node)!.remove.map(i => [i.id, i]))
    if ('problem' in run) {
      Object.assign(report, { state: 'failed', why: `removal: ${run.problem}` })
      continue
    }
    const result = readRemoval(run.log)
    report.removed = result.removed.flatMap(id => (images.has(id) ? [shown(images.get(id)!)] : []))
    report.bytesFreed = report.removed.reduce((sum, i) => sum + i.size, 0)
    report.refused = result.refused.flatMap(r => (images.has(r.id) ? [{ ...shown(images.get(r.id)!), why: r.why }] : []))
    if (!result.finished) Object.assign(report, { state: 'failed', why: 'removal: the job did not get to its end' })
  }
}

// The cleanup's decision, a pure function of what the swarm and each node's
// listing say: per node, the images of this stack's repositories that no one
// needs, and those kept and why. Kept: every image a task on that node runs
// or is about to (its own node only), the image of every service's current
// and previous spec anywhere in the swarm (not only this stack's: another
// stack may run the same image), the images of this stack's kept releases
// (a rollback to them must not pull), and anything of another repository.
import type { Service, Task, TaskState } from '../swarm/model.js'
import { STACK_LABEL } from '../swarm/model.js'
import { digestOf, parseReference } from './references.js'

/** One image on a node, as the listing job reads it from `docker image inspect`. */
export interface ImageRow {
  id: string
  /** Bytes, as `docker image inspect` gives `.Size`. */
  size: number
  tags: string[]
  digests: string[]
}

/** Why an image of the stack's repositories stays: a task on the node uses it, a service spec names it, a kept release does. */
export type KeepReason = 'task' | 'spec' | 'release'

export interface NodeDecision {
  node: string
  remove: ImageRow[]
  kept: Array<{ image: ImageRow; why: KeepReason }>
}

export interface PruneFacts {
  stack: string
  /** Every service of the swarm, and every task, as the Engine API lists them. */
  services: Service[]
  tasks: Task[]
  /** The images of each kept release's services (`repo:tag@sha256:…`). */
  keptReleases: Array<{ services: Array<{ image: string }> }>
  /** The images of every release of the stack, kept or not: which repositories are the stack's. */
  releaseImages: string[]
  /** A preview: the images the deploy would run, as the specs will name them. */
  plannedImages?: string[]
}

// A task in one of these is over: its container no longer runs (or never will).
const OVER: ReadonlySet<TaskState> = new Set<TaskState>(['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'])

const specImage = (spec: { TaskTemplate?: { ContainerSpec?: { Image?: string } } } | undefined): string | undefined => spec?.TaskTemplate?.ContainerSpec?.Image

/** Needed references: a digest is enough where there is one (any repository), else repository:tag. */
class Needed {
  private readonly digests = new Map<string, KeepReason>()
  private readonly tags = new Map<string, KeepReason>()

  add(reference: string | undefined, why: KeepReason): void {
    if (!reference) return
    const digest = digestOf(reference)
    if (digest) return void (this.digests.has(digest) || this.digests.set(digest, why))
    const ref = parseReference(reference)
    const key = ref?.repository ? `${ref.repository}:${ref.tag ?? 'latest'}` : undefined
    if (key && !this.tags.has(key)) this.tags.set(key, why)
  }

  /** Why the image is needed, the most telling reason first; undefined if nothing needs it. */
  reason(image: ImageRow, ...also: Needed[]): KeepReason | undefined {
    for (const needed of [this, ...also]) {
      for (const digest of image.digests) {
        const why = needed.digests.get(digestOf(digest) ?? '')
        if (why) return why
      }
      for (const tag of image.tags) {
        const ref = parseReference(tag)
        const why = ref?.repository ? needed.tags.get(`${ref.repository}:${ref.tag ?? 'latest'}`) : undefined
        if (why) return why
      }
    }
    return undefined
  }
}

/** The repositories this stack deploys: those of its services' specs, its releases and the planned images. */
export function stackRepositories(facts: PruneFacts): Set<string> {
  const ours = facts.services.filter(s => s.Spec.Labels?.[STACK_LABEL] === facts.stack)
  const references = [...ours.flatMap(s => [specImage(s.Spec), specImage(s.PreviousSpec)]), ...facts.releaseImages, ...(facts.plannedImages ?? [])]
  return new Set(references.flatMap(r => (r ? [parseReference(r)?.repository ?? ''] : [])).filter(r => r !== ''))
}

/** The images to remove on each listed node, and those of the stack's repositories that stay. */
export function decidePrune(facts: PruneFacts, listings: ReadonlyMap<string, ImageRow[]>): NodeDecision[] {
  const repositories = stackRepositories(facts)
  const everywhere = new Needed()
  for (const service of facts.services) everywhere.add(specImage(service.Spec), 'spec')
  for (const service of facts.services) everywhere.add(specImage(service.PreviousSpec), 'spec')
  for (const image of facts.plannedImages ?? []) everywhere.add(image, 'spec')
  for (const release of facts.keptReleases) for (const service of release.services) everywhere.add(service.image, 'release')

  return [...listings].map(([node, images]) => {
    const onNode = new Needed()
    for (const task of facts.tasks) if (task.NodeID === node && !OVER.has(task.Status.State)) onNode.add(task.Spec.ContainerSpec?.Image, 'task')
    const decision: NodeDecision = { node, remove: [], kept: [] }
    for (const image of images) {
      const names = [...image.tags, ...image.digests].map(r => parseReference(r)?.repository ?? '')
      // An image also named in another repository is that repository's too: left alone.
      if (names.length === 0 || names.some(r => !repositories.has(r))) continue
      const why = onNode.reason(image, everywhere)
      if (why) decision.kept.push({ image, why })
      else decision.remove.push(image)
    }
    return decision
  })
}

/**
 * What a preview expects once the deploy converged: the services it deploys
 * have their current spec as the previous one (Swarm's rollback target) and
 * the planned image as the current one, and the new release pushes the
 * oldest kept one out (`keep-releases`, newest first).
 */
export function afterDeploy(facts: PruneFacts, deployed: ReadonlySet<string>, plannedImages: string[], keepReleases: number): PruneFacts {
  const services = facts.services.map(service =>
    deployed.has(service.Spec.Name) && service.Spec.Labels?.[STACK_LABEL] === facts.stack
      ? { ...service, PreviousSpec: { TaskTemplate: service.Spec.TaskTemplate } }
      : service
  )
  return { ...facts, services, keptReleases: facts.keptReleases.slice(0, Math.max(0, keepReleases - 1)), plannedImages }
}

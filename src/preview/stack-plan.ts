// The preview's decision: per service, what a deploy of the rendered compose
// would do to the live stack, and what it would change. A pure function of
// the two sides' views (service-view.ts). Values are shown only for the
// fields that cannot carry an env value on their own (image, replicas,
// ports, update and rollback config, placement, resources, restart policy,
// networks, config version names); environment variables and labels are
// named, the rest by its field.
import { namedChanges } from '../converge/spec-diff.js'
import { stableStringify } from '../converge/stable-json.js'
import type { ObjectRef, ServiceView } from './service-view.js'
import { normalizeImage, objectKey } from './service-view.js'

export type PlanAction = 'create' | 'update' | 'unchanged' | 'remove'

export interface PlannedService {
  /** The service's compose key (the swarm's name without `<stack>_`). */
  name: string
  action: PlanAction
  /** The image it would run, or (remove) runs. */
  image: string
  /** For an update: each difference, one line each, most telling first. */
  changes: string[]
}

/** With hooks or waves: one step of the deploy, its services and what it would do to each (a hook `run`s). */
export interface PlannedStep {
  name: string
  services: Array<{ name: string; action: PlanAction | 'run' }>
}

export interface StackPlan {
  stack: string
  services: PlannedService[]
  /** With hooks or waves: the steps in the order a deploy would run them. */
  steps?: PlannedStep[]
  /** Services the compose files no longer have, which stay because prune is off. */
  kept: string[]
  warnings: string[]
}

const same = (a: unknown, b: unknown): boolean => stableStringify(a) === stableStringify(b)

/** "environment A, B added; C removed; D changed": names only, never a value. */
function named(what: string, before: Record<string, unknown>, after: Record<string, unknown>): string | undefined {
  // Maps, not `in`: a variable named `constructor` or `toString` is not on every object.
  return namedChanges(what, new Map(Object.entries(before)), new Map(Object.entries(after)))
}

const show = (value: unknown): string =>
  Array.isArray(value) ? (value.length === 0 ? '(none)' : value.join(', ')) : typeof value === 'string' ? value : JSON.stringify(value)

/** "update_config order stop-first → start-first, delay 0s → 1s"; a list field as old → new. */
function shownChange(field: string, before: unknown, after: unknown): string | undefined {
  if (same(before, after)) return undefined
  if (before !== null && typeof before === 'object' && !Array.isArray(before) && after !== null && typeof after === 'object' && !Array.isArray(after)) {
    const b = before as Record<string, unknown>
    const a = after as Record<string, unknown>
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort()
    const parts = keys
      .filter(k => !same(b[k], a[k]))
      .map(k => `${k} ${b[k] === undefined ? '(none)' : show(b[k])} → ${a[k] === undefined ? '(none)' : show(a[k])}`)
    return `${field} ${parts.join(', ')}`
  }
  return `${field} ${show(before)} → ${show(after)}`
}

/** Secrets by target: a new version is said as such, never with a secret's version name; configs show theirs. */
function objectChanges(kind: 'secret' | 'config', stack: string, before: Record<string, ObjectRef>, after: Record<string, ObjectRef>): string[] {
  const out: string[] = []
  const label = (ref: ObjectRef): string => objectKey(stack, ref.name)
  for (const target of Object.keys(after).sort()) {
    const a = after[target]!
    const b = before[target]
    if (!b) out.push(`${kind} ${target} added (${kind === 'config' ? a.name : label(a)})`)
    else {
      if (b.name !== a.name) {
        const sameKey = label(a) === label(b)
        out.push(
          kind === 'secret'
            ? `secret ${target}: ${sameKey ? `new version of ${label(a)}` : `${label(b)} → ${label(a)}`}`
            : `config ${target}: ${b.name} → ${a.name}`
        )
      }
      if (b.file !== a.file) out.push(`${kind} ${target}: owner or mode ${b.file} → ${a.file}`)
    }
  }
  for (const target of Object.keys(before).sort()) if (!(target in after)) out.push(`${kind} ${target} removed`)
  return out
}

/** Each way the would-be view differs from the live one; empty when a deploy would change nothing. */
export function serviceChanges(stack: string, live: ServiceView, wouldBe: ServiceView): string[] {
  const changes: string[] = []
  const liveImage = normalizeImage(live.imageShown, wouldBe.image.includes('@'))
  if (wouldBe.toBeBuilt || liveImage !== wouldBe.image) changes.push(`image ${live.imageShown} → ${wouldBe.imageShown}`)
  const env = named('environment', live.env, wouldBe.env)
  if (env) changes.push(env)
  for (const field of Object.keys({ ...live.shown, ...wouldBe.shown })) {
    const change = shownChange(field, live.shown[field], wouldBe.shown[field])
    if (change) changes.push(change)
  }
  changes.push(...objectChanges('secret', stack, live.secrets, wouldBe.secrets))
  changes.push(...objectChanges('config', stack, live.configs, wouldBe.configs))
  const labels = named('labels', live.labels, wouldBe.labels)
  if (labels) changes.push(labels)
  const containerLabels = named('container labels', live.containerLabels, wouldBe.containerLabels)
  if (containerLabels) changes.push(containerLabels)
  const mounts = named('mounts', live.mounts, wouldBe.mounts)
  if (mounts) changes.push(mounts)
  const other = Object.keys({ ...live.named, ...wouldBe.named }).filter(k => !same(live.named[k], wouldBe.named[k]))
  if (other.length > 0) changes.push(`also ${other.join(', ')} changed`)
  return changes
}

/**
 * The plan: every compose service is `create` (not on the swarm) or `update`
 * / `unchanged`; a live service the compose files no longer have is
 * `remove` only with prune (`docker stack deploy --prune`), else kept.
 */
export function planStack(stack: string, wouldBe: ServiceView[], live: ServiceView[], options: { prune: boolean; warnings?: string[] }): StackPlan {
  const liveByName = new Map(live.map(v => [v.name, v]))
  const services: PlannedService[] = wouldBe
    .map((view): PlannedService => {
      const current = liveByName.get(view.name)
      if (!current) return { name: view.name, action: 'create', image: view.imageShown, changes: [] }
      const changes = serviceChanges(stack, current, view)
      return { name: view.name, action: changes.length > 0 ? 'update' : 'unchanged', image: view.imageShown, changes }
    })
    .sort((a, b) => a.name.localeCompare(b.name))
  const wanted = new Set(wouldBe.map(v => v.name))
  const gone = live.filter(v => !wanted.has(v.name)).sort((a, b) => a.name.localeCompare(b.name))
  if (options.prune) services.push(...gone.map((v): PlannedService => ({ name: v.name, action: 'remove', image: v.imageShown, changes: [] })))
  return { stack, services, kept: options.prune ? [] : gone.map(v => v.name), warnings: options.warnings ?? [] }
}

/** Counts by action, e.g. "1 to create, 2 to update, 3 unchanged". */
export function planCounts(plan: StackPlan): string {
  const count = (action: PlanAction): number => plan.services.filter(s => s.action === action).length
  const parts = [
    count('create') ? `${count('create')} to create` : '',
    count('update') ? `${count('update')} to update` : '',
    count('remove') ? `${count('remove')} to remove` : '',
    count('unchanged') ? `${count('unchanged')} unchanged` : ''
  ].filter(Boolean)
  return parts.length > 0 ? parts.join(', ') : 'no services'
}

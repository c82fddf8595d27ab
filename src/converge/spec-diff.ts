// What differs between two service specs, said in names a person can act on
// and never with a value: environment values, label values, command lines
// and mounts can all hold secrets. The image and the replica count are the
// only values shown; the rest is named by its field.
import { stableStringify } from './stable-json.js'

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value)

function at(value: unknown, path: string[]): unknown {
  let here = value
  for (const key of path) here = isObject(here) ? here[key] : undefined
  return here
}

/** `KEY=VALUE` entries (as the API lists a container's Env) by name. */
function envByName(value: unknown): Map<string, string> {
  const entries = Array.isArray(value) ? value.filter((e): e is string => typeof e === 'string') : []
  return new Map(entries.map(e => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, ''])))
}

/** Names added, removed or whose values changed, e.g. "environment FOREIGN added; OLD removed" (names only; the preview's too). */
export function namedChanges(what: string, before: Map<string, unknown>, after: Map<string, unknown>): string | undefined {
  const added = [...after.keys()].filter(k => !before.has(k)).sort()
  const removed = [...before.keys()].filter(k => !after.has(k)).sort()
  const changed = [...after.keys()].filter(k => before.has(k) && stableStringify(before.get(k)) !== stableStringify(after.get(k))).sort()
  const parts = [
    added.length > 0 ? `${added.join(', ')} added` : '',
    removed.length > 0 ? `${removed.join(', ')} removed` : '',
    changed.length > 0 ? `${changed.join(', ')} changed` : ''
  ].filter(Boolean)
  return parts.length > 0 ? `${what} ${parts.join('; ')}` : undefined
}

const asMap = (value: unknown): Map<string, unknown> => new Map(isObject(value) ? Object.entries(value) : [])

// Fields described above by what they mean; the generic walk skips them.
const DESCRIBED = new Set([
  'TaskTemplate.ContainerSpec.Image',
  'TaskTemplate.ContainerSpec.Env',
  'TaskTemplate.ForceUpdate',
  'Mode.Replicated.Replicas',
  'Labels'
])
// Deep enough to say "TaskTemplate.ContainerSpec.Args" or "UpdateConfig.Parallelism", not deeper.
const MAX_DEPTH = 3

function changedPaths(before: unknown, after: unknown, path: string[], out: string[]): void {
  const name = path.join('.')
  if (DESCRIBED.has(name)) return
  if (path.length < MAX_DEPTH && isObject(before) && isObject(after)) {
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) changedPaths(before[key], after[key], [...path, key], out)
    return
  }
  if (stableStringify(before) !== stableStringify(after)) out.push(name)
}

/** Each way `after` differs from `before`, most telling first; empty when they are the same. */
export function specChanges(before: unknown, after: unknown): string[] {
  const changes: string[] = []
  const image = (s: unknown): string => String(at(s, ['TaskTemplate', 'ContainerSpec', 'Image']) ?? '(none)')
  if (image(before) !== image(after)) changes.push(`image ${image(before)} → ${image(after)}`)
  const env = namedChanges(
    'environment',
    envByName(at(before, ['TaskTemplate', 'ContainerSpec', 'Env'])),
    envByName(at(after, ['TaskTemplate', 'ContainerSpec', 'Env']))
  )
  if (env) changes.push(env)
  const replicas = (s: unknown): unknown => at(s, ['Mode', 'Replicated', 'Replicas'])
  if (replicas(before) !== replicas(after) && replicas(before) !== undefined && replicas(after) !== undefined) {
    changes.push(`replicas ${String(replicas(before))} → ${String(replicas(after))}`)
  }
  if ((at(before, ['TaskTemplate', 'ForceUpdate']) ?? 0) !== (at(after, ['TaskTemplate', 'ForceUpdate']) ?? 0)) changes.push('tasks restarted (--force)')
  const labels = namedChanges('labels', asMap(at(before, ['Labels'])), asMap(at(after, ['Labels'])))
  if (labels) changes.push(labels)
  const other: string[] = []
  changedPaths(before, after, [], other)
  if (other.length > 0) changes.push(`also ${other.join(', ')}`)
  return changes
}

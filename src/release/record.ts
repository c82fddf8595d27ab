// A release: what one deploy put on the swarm, kept there as a labelled swarm
// config (`<stack>_release_<n>`), so raft replicates it and no manager keeps
// it as a file. The data is immutable; only the status label changes once
// the verdict is known. Pure: records in and out, no I/O.
import { createHash } from 'node:crypto'
import * as YAML from 'yaml'
import { parsedCompose } from '../deploy/compose-yaml.js'
import { findBareEnvironment, findVariables } from '../deploy/variables.js'
import type { Service } from '../swarm/model.js'

export type ReleaseStatus = 'deploying' | 'converged' | 'rolled-back' | 'failed' | 'timed-out' | 'superseded' | 'cancelled'

export const RELEASE_LABEL = 'io.swarm-deploy.release'
export const STATUS_LABEL = 'io.swarm-deploy.release.status'

export interface ReleaseService {
  name: string
  /** The image Swarm runs, pinned by digest. */
  image: string
  secrets: string[]
  configs: string[]
}

/** The config's data: everything but the status. */
export interface ReleaseData {
  format: 1
  stack: string
  number: number
  /** ISO time the deploy ran. */
  time: string
  /** The commit whose files these are (for a rollback: the release rolled back to's). */
  sha: string
  ref: string
  /** Who ran this deploy, and where. */
  actor: string
  runUrl: string
  /** Set when this deploy put an earlier release back. */
  rollbackTo: number | undefined
  /** The image this run pushed (IMAGE), if any. */
  image: string | undefined
  services: ReleaseService[]
  /** The compose files as deployed: `${VAR}` references unresolved, secret and config versions named. */
  compose: Array<{ path: string; text: string }>
  /** Every variable the compose text reads. */
  variables: string[]
}

export interface Release extends ReleaseData {
  status: ReleaseStatus
  /** The swarm config holding it. */
  id: string
  version: number
  /** SHA-256 (hex) of the config's data, which the release proof binds. */
  digest: string
}

export function releaseName(stack: string, n: number): string {
  return `${stack}_release_${n}`
}

export function isReleaseName(stack: string, name: string): boolean {
  const prefix = `${stack}_release_`
  return name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length))
}

export function encodeRelease(data: ReleaseData): Buffer {
  return Buffer.from(JSON.stringify(data, (_key, value: unknown) => (value === undefined ? null : value), 2) + '\n', 'utf8')
}

export function dataDigest(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A stored config back as a release, unchecked (trustRecord checks it); undefined for anything that cannot be one. */
export function decodeRelease(config: { id: string; version: number; labels: Record<string, string>; data: Buffer }): Release | undefined {
  try {
    const data = JSON.parse(config.data.toString('utf8')) as ReleaseData & { rollbackTo: number | null; image: string | null }
    if (data.format !== 1 || typeof data.number !== 'number') return undefined
    const status = (config.labels[STATUS_LABEL] ?? 'deploying') as ReleaseStatus
    return {
      ...data,
      rollbackTo: data.rollbackTo ?? undefined,
      image: data.image ?? undefined,
      status,
      id: config.id,
      version: config.version,
      digest: dataDigest(config.data)
    }
  } catch {
    return undefined
  }
}

/** Newest first. */
export function sortReleases(releases: Release[]): Release[] {
  return [...releases].sort((a, b) => b.number - a.number)
}

/**
 * The services of the stack as deployed: pinned images and the secret and
 * config versions they name. An image built from a variable (`image:
 * ${BASE_IMAGE}`) would carry its value into the record, so the value goes
 * back to its reference (`${BASE_IMAGE}@sha256:…`), which a rollback resolves
 * from the current env like the rest of the text.
 */
export function releaseServices(services: Service[], variables: ReadonlyMap<string, string>, hide: readonly string[]): ReleaseService[] {
  return services
    .map(service => {
      const container = service.Spec.TaskTemplate.ContainerSpec as
        { Image?: string; Secrets?: Array<{ SecretName?: string }>; Configs?: Array<{ ConfigName?: string }> } | undefined
      return {
        name: service.Spec.Name,
        image: hideValues(referencesFor(container?.Image ?? '', variables), hide),
        secrets: (container?.Secrets ?? []).flatMap(s => (s.SecretName ? [s.SecretName] : [])).sort(),
        configs: (container?.Configs ?? []).flatMap(c => (c.ConfigName ? [c.ConfigName] : [])).sort()
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}

export const HIDDEN = '***'

/** Values shorter than 4 characters cannot be told from the rest of a name. */
const SHORTEST = 4

function referencesFor(text: string, variables: ReadonlyMap<string, string>): string {
  let result = text
  const longestFirst = [...variables].filter(([, v]) => v.length >= SHORTEST).sort(([, a], [, b]) => b.length - a.length)
  for (const [name, value] of longestFirst) result = result.split(value).join(`\${${name}}`)
  return result
}

/** Any other secret (the SSH key, a registry password) is cut out. */
function hideValues(text: string, hide: readonly string[]): string {
  let result = text
  for (const value of [...hide].filter(v => v.length >= SHORTEST).sort((a, b) => b.length - a.length)) result = result.split(value).join(HIDDEN)
  return result
}

/** Every variable a compose text reads, by name. */
export function variablesOf(files: Array<{ path: string; text: string }>): string[] {
  const names = new Set<string>()
  for (const { path, text } of files)
    for (const ref of [...findVariables(text, path), ...findBareEnvironment(text, path)]) if (ref.name !== '') names.add(ref.name)
  return [...names].sort()
}

/** Every secret and config version a release's services name. */
export function objectsOf(release: Pick<ReleaseData, 'services'>): string[] {
  return [...new Set(release.services.flatMap(s => [...s.secrets, ...s.configs]))].sort()
}

/**
 * The compose text as recorded: secret and config entries that name a
 * version become `external`, so a rollback uses the version the release used
 * instead of reading a file the checkout may have changed. Edited in place,
 * like the deploy's own copy, so Docker reads every other scalar the same.
 */
export function externalized(text: string): string {
  const doc = parsedCompose(text).doc
  if (doc.errors.length > 0) return text
  const edits: Array<{ start: number; end: number; text: string }> = []
  for (const section of ['secrets', 'configs']) {
    const map = doc.get(section)
    if (!YAML.isMap(map)) continue
    for (const pair of map.items) {
      const entry = pair.value
      if (!YAML.isMap(entry) || entry.get('external') === true) continue
      const name = entry.get('name')
      if (typeof name !== 'string' || name.includes('$')) continue
      const [start, end] = entry.range!
      edits.push({ start, end: start + text.slice(start, end).trimEnd().length, text: `{external: true, name: ${JSON.stringify(name)}}` })
    }
  }
  return applyEdits(text, edits)
}

/** The recorded text with each service's `image:` set to the image the release ran. */
export function pinnedImages(text: string, stack: string, services: ReleaseService[]): string {
  const doc = parsedCompose(text).doc
  if (doc.errors.length > 0) return text
  const images = new Map(services.map(s => [s.name, s.image]))
  const edits: Array<{ start: number; end: number; text: string }> = []
  const map = doc.get('services')
  if (!YAML.isMap(map)) return text
  for (const pair of map.items) {
    const key = String(YAML.isScalar(pair.key) ? pair.key.value : pair.key)
    const image = images.get(`${stack}_${key}`)
    if (!YAML.isMap(pair.value) || image === undefined || !image.includes('@sha256:') || image.includes(HIDDEN)) continue
    const node = pair.value.get('image', true)
    if (!YAML.isScalar(node) || !node.range) continue
    edits.push({ start: node.range[0], end: node.range[1], text: JSON.stringify(image) })
  }
  return applyEdits(text, edits)
}

function applyEdits(text: string, edits: Array<{ start: number; end: number; text: string }>): string {
  let result = text
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) result = result.slice(0, edit.start) + edit.text + result.slice(edit.end)
  return result
}

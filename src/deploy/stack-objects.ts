// Swarm secrets and configs the way `docker stack deploy` cannot do them:
// - `environment:` sources (a GitHub secret becomes a swarm secret, read by
//   services from /run/secrets/<key> instead of their environment);
// - content-hash names for every secret and config, so a changed value rolls
//   out as a new version instead of failing with "only updates to Labels are
//   allowed".
// Pure: compose text in, rewritten compose text and the objects to create out.
import { createHash, createHmac } from 'node:crypto'
import * as YAML from 'yaml'
import { parsedCompose } from './compose-yaml.js'
import { GIVE_A_VALUE } from './variables.js'

export type ObjectKind = 'secret' | 'config'

export interface StackObject {
  kind: ObjectKind
  /** The key under top-level `secrets:`/`configs:`. */
  key: string
  /** `<stack>_<key>_<hash>`: what Swarm stores it as. */
  name: string
  /** Set only for `environment:` sources, which the action creates itself. */
  data: Buffer | undefined
}

export interface RenderedFile {
  path: string
  /** The rewritten compose text, or undefined when the file needs no change. */
  text: string | undefined
}

export interface Rendered {
  files: RenderedFile[]
  objects: StackObject[]
}

const MAX_NAME = 64
export const HASH_CHARS = 10

/**
 * The version part of a name. Secret names are public (logs, `docker secret
 * ls`), so a secret's is keyed: a bare hash of a short password could be
 * guessed offline. Configs are not secret and get a plain hash.
 */
export function contentHash(data: Buffer | string, key?: Buffer): string {
  const digest = key ? createHmac('sha256', key) : createHash('sha256')
  return digest.update(data).digest('hex').slice(0, HASH_CHARS)
}

/** `<stack>_<key>_<hash>` names, and how to tell ours apart when pruning. */
export function versionedName(stack: string, key: string, hash: string): string {
  return `${stack}_${key}_${hash}`
}

export function isVersionOf(stack: string, name: string): boolean {
  return name.startsWith(`${stack}_`) && new RegExp(`_[0-9a-f]{${HASH_CHARS}}$`).test(name)
}

export interface RenderContext {
  stack: string
  /** The values compose interpolation gets (env input and IMAGE). */
  values: ReadonlyMap<string, string>
  /** Reads a `file:` source named in a compose file; undefined if absent. */
  readSource: (file: string) => Buffer | undefined
  /** Keys the version hash of secrets; stable across runs, never leaves the runner. */
  secretKey: Buffer
}

/** A change to the compose text: replace [start, end) with text. */
export interface Edit {
  start: number
  end: number
  text: string
}

/**
 * The copy is the original text with only the changed entries edited in
 * place. Docker reads compose files with Go's yaml, whose scalars no YAML
 * version here matches (0400 is octal there, yes and 1:20 are strings), so
 * re-serialising the document would change what Docker reads: `mode: 0400`
 * would come out as `mode: 400` in YAML 1.2, `1:20` as `01:20` in YAML 1.1.
 */
export function applyEdits(text: string, edits: Edit[]): string {
  let result = text
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) result = result.slice(0, edit.start) + edit.text + result.slice(edit.end)
  return result
}

/** Replaces an entry's text (block or flow) with a flow mapping. */
export function replaceEntry(text: string, entry: YAML.YAMLMap, replacement: string): Edit {
  const [start, end] = entry.range!
  return { start, end: start + text.slice(start, end).trimEnd().length, text: replacement }
}

/** Adds `key: "value"` to an entry as its first key, in the entry's own style. */
function addKey(text: string, entry: YAML.YAMLMap, key: string, value: string): Edit {
  // Names are quoted: Go's yaml reads `1_2_0123456789` as a number.
  return addPair(text, entry, key, JSON.stringify(value), Object.assign(new YAML.Scalar(value), { type: YAML.Scalar.QUOTE_DOUBLE }))
}

/**
 * Adds `key: <valueText>` to a map as its first key, in the map's own style;
 * `valueText` is YAML in flow style, `value` the same as a node.
 */
export function addPair(text: string, entry: YAML.YAMLMap, key: string, valueText: string, value: unknown): Edit {
  const start = entry.range![0]
  const pair = `${key}: ${valueText}`
  if (entry.flow) return entry.items.length === 0 ? replaceEntry(text, entry, `{${pair}}`) : { start: start + 1, end: start + 1, text: `${pair}, ` }
  const indent = text.slice(text.lastIndexOf('\n', start - 1) + 1, start)
  if (/^ *$/.test(indent)) return { start, end: start, text: `${pair}${text.includes('\r\n') ? '\r\n' : '\n'}${indent}` }
  // A layout too unusual to edit in place (the entry starts after other text on its line).
  const copy = entry.clone() as YAML.YAMLMap
  copy.set(key, value)
  return replaceEntry(text, entry, YAML.stringify(copy, { collectionStyle: 'flow' }).trim())
}

export function renderStackObjects(files: Array<{ path: string; text: string }>, context: RenderContext): Rendered {
  const objects: StackObject[] = []
  const rendered = files.map(({ path, text }) => {
    const doc = parsedCompose(text).doc
    const edits: Edit[] = []
    for (const [section, kind] of [
      ['secrets', 'secret'],
      ['configs', 'config']
    ] as const) {
      const map = doc.get(section)
      if (!YAML.isMap(map)) continue
      for (const pair of map.items) {
        const key = String(YAML.isScalar(pair.key) ? pair.key.value : pair.key)
        const entry = pair.value
        if (!YAML.isMap(entry) || entry.get('external') === true || entry.has('name')) continue
        const variable = entry.get('environment')
        const file = entry.get('file')
        let data: Buffer | undefined
        if (typeof variable === 'string') {
          const value = context.values.get(variable)
          if (value === undefined) {
            throw new Error(`compose-file: ${path}: ${kind} ${key} takes its value from ${variable}, which is not set: add ${variable}=… ${GIVE_A_VALUE}`)
          }
          data = Buffer.from(value, 'utf8')
        } else if (typeof file === 'string' && !file.includes('$')) {
          data = context.readSource(file)
          if (data === undefined) throw new Error(`compose-file: ${path}: ${kind} ${key} reads ${file}, which does not exist`)
        } else {
          continue
        }
        const name = versionedName(context.stack, key, contentHash(data, kind === 'secret' ? context.secretKey : undefined))
        if (name.length > MAX_NAME) {
          throw new Error(`compose-file: ${path}: ${kind} name ${name} is longer than Swarm's ${MAX_NAME} characters: use a shorter stack or ${kind} key`)
        }
        if (typeof variable === 'string') {
          // Created by the action over the API: the value travels only in that request body.
          edits.push(replaceEntry(text, entry, `{external: true, name: ${JSON.stringify(name)}}`))
          objects.push({ kind, key, name, data })
        } else {
          // The docker CLI creates file sources itself; a new name per content makes it a new version.
          edits.push(addKey(text, entry, 'name', name))
          objects.push({ kind, key, name, data: undefined })
        }
      }
    }
    return { path, text: edits.length > 0 ? applyEdits(text, edits) : undefined }
  })
  return { files: rendered, objects }
}

/** Names of secrets and configs a service spec (current or kept for rollback) uses. */
export function namesInUse(services: Array<{ Spec: unknown; PreviousSpec?: unknown }>): Set<string> {
  const names = new Set<string>()
  for (const service of services) {
    for (const spec of [service.Spec, service.PreviousSpec]) {
      const container = (
        spec as { TaskTemplate?: { ContainerSpec?: { Secrets?: Array<{ SecretName?: string }>; Configs?: Array<{ ConfigName?: string }> } } } | undefined
      )?.TaskTemplate?.ContainerSpec
      for (const s of container?.Secrets ?? []) if (s.SecretName) names.add(s.SecretName)
      for (const c of container?.Configs ?? []) if (c.ConfigName) names.add(c.ConfigName)
    }
  }
  return names
}

// Compose files parsed once per run. The preflight, the deploy and the
// release record each read the same files (variables, bare environment
// names, secret sources, name lengths, versions, images), and parsing a
// 200-service file takes ~100 ms and ~10 MB of heap each time: a dozen
// parses were most of the CLI's memory on a large stack. Every reader only
// reads the document (edits are made to the text, or to a clone), so one
// parse serves all.
import * as YAML from 'yaml'

export interface ParsedCompose {
  doc: YAML.Document.Parsed
  /** Line and column of a node's offset. */
  lines: YAML.LineCounter
}

/** The last few texts parsed: a run reads its own files, a rollback the recorded ones. */
const KEEP = 4
const parsed = new Map<string, ParsedCompose>()

/** The document of a compose text, parsed once: read it, never change it. */
export function parsedCompose(text: string): ParsedCompose {
  const known = parsed.get(text)
  if (known) return known
  const lines = new YAML.LineCounter()
  const entry = { doc: YAML.parseDocument(text, { lineCounter: lines }), lines }
  parsed.set(text, entry)
  if (parsed.size > KEEP) parsed.delete(parsed.keys().next().value!)
  return entry
}

/** The node an alias stands for; any other node as it is. */
export function unaliased(doc: YAML.Document, node: unknown): unknown {
  return YAML.isAlias(node) ? node.resolve(doc) : node
}

// A merge key is the plain scalar `<<`: a string in YAML 1.2 (how the
// document is parsed, so that every other reader sees the text as written),
// a symbol under `%YAML 1.1`. A quoted "<<" is an ordinary key.
function isMergeKey(key: unknown): boolean {
  if (!YAML.isScalar(key) || (key.type !== undefined && key.type !== YAML.Scalar.PLAIN)) return false
  return key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<')
}

/** A map key as text. */
export const keyText = (key: unknown): string => String(YAML.isScalar(key) ? key.value : key)

/**
 * The pairs of a map as docker's loader sees them (YAML 1.1, where
 * `<<: *base` or `<<: [*a, *b]` merges maps): its own keys first, then
 * each merged map's that are not there yet, earlier sources first. The
 * pairs are the document's own (positions name where the text is); nothing
 * is changed. A merge that reaches a map already being merged adds nothing.
 */
export function mergedPairs(doc: YAML.Document, map: YAML.YAMLMap, seen: Set<YAML.YAMLMap> = new Set()): YAML.Pair[] {
  if (seen.has(map)) return []
  seen.add(map)
  const sources = map.items.filter(pair => isMergeKey(pair.key)).map(pair => unaliased(doc, pair.value))
  const merged = sources
    .flatMap(source => (YAML.isSeq(source) ? source.items.map(item => unaliased(doc, item)) : [source]))
    .flatMap(source => (YAML.isMap(source) ? mergedPairs(doc, source, seen) : []))
  const keys = new Set<string>()
  return [...map.items.filter(pair => !isMergeKey(pair.key)), ...merged].filter(pair => !keys.has(keyText(pair.key)) && keys.add(keyText(pair.key)))
}

/** The value of `key` in a map, merges resolved and aliases followed; undefined when it is not a map or has no such key. */
export function mergedGet(doc: YAML.Document, node: unknown, key: string): unknown {
  const map = unaliased(doc, node)
  if (!YAML.isMap(map)) return undefined
  const pair = mergedPairs(doc, map).find(p => keyText(p.key) === key)
  return pair === undefined ? undefined : unaliased(doc, pair.value)
}

/**
 * The first lines of a compose file given after these to `docker stack
 * deploy`: the `version:` the first declares, since docker refuses files
 * whose versions differ (a file without one counts as 3.13).
 */
export function overrideHeader(files: Array<{ text: string }>): string[] {
  const { doc } = parsedCompose(files[0]?.text ?? '')
  const version = doc.errors.length === 0 ? doc.get('version') : undefined
  return version === undefined || version === null ? [] : [`version: ${JSON.stringify(String(version))}`]
}

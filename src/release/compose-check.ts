// What a recorded compose may do when a rollback deploys it, whatever its
// proof says: nothing that makes the runner read a file (`file:` sources,
// `env_file`, `build`, `extends`, `label_file`, `include`), no secret or
// config other than the versions the release's services used (external, so
// nothing is created from the runner), the release's services only, and
// only the variables the release recorded. Read on the parsed document, with
// aliases resolved and merge keys (`<<`) counted as the keys they bring, so
// no YAML spelling hides a key; what cannot be read is refused. Pure.
import * as YAML from 'yaml'
import { parsedCompose } from '../deploy/compose-yaml.js'
import type { ReleaseData } from './record.js'
import { objectsOf, variablesOf } from './record.js'

/** Keys of a service that read files on the runner. */
const FILE_KEYS = new Set(['build', 'env_file', 'extends', 'label_file'])
/** Top-level keys a recorded compose may have (and `x-` extensions). */
const TOP_KEYS = new Set(['version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs'])

/** One key of a mapping as Docker may read it: its name, and each value it may have. */
interface Entry {
  key: string
  values: unknown[]
}

class Unreadable extends Error {}

/**
 * The keys of a mapping node with their values, merge keys expanded: a key
 * given both directly and by a merge lists both values, so a check over all
 * of them holds whichever Docker takes.
 */
function entriesOf(node: unknown, doc: YAML.Document.Parsed, depth = 0): Entry[] {
  if (depth > 20) throw new Unreadable('merge keys nested too deep')
  const map = resolved(node, doc)
  if (!YAML.isMap(map)) throw new Unreadable('a mapping is expected')
  const entries = new Map<string, Entry>()
  const add = (key: string, value: unknown): void => {
    const entry = entries.get(key) ?? { key, values: [] }
    entry.values.push(value)
    entries.set(key, entry)
  }
  for (const pair of map.items) {
    const key = pair.key
    if (!YAML.isScalar(key) || key.value === null || typeof key.value === 'object') throw new Unreadable('a key is not plain text')
    if (key.value === '<<' || typeof key.value === 'symbol') {
      const source = resolved(pair.value, doc)
      const sources = YAML.isSeq(source) ? source.items : [source]
      for (const item of sources) for (const merged of entriesOf(item, doc, depth + 1)) for (const value of merged.values) add(merged.key, value)
    } else add(String(key.value), pair.value)
  }
  return [...entries.values()]
}

function resolved(node: unknown, doc: YAML.Document.Parsed): unknown {
  return YAML.isAlias(node) ? node.resolve(doc) : node
}

/** A scalar's value, or a marker that it is not one. */
function scalarOf(node: unknown, doc: YAML.Document.Parsed): unknown {
  const value = resolved(node, doc)
  return YAML.isScalar(value) ? value.value : Unreadable
}

/** Everything a rollback of this release would deploy that the release did not: one line each. */
export function recordedComposeProblems(
  files: Array<{ path: string; text: string }>,
  release: Pick<ReleaseData, 'stack' | 'services' | 'variables'>
): string[] {
  const problems: string[] = []
  const allowedObjects = new Set(objectsOf(release))
  const services = new Set(release.services.map(s => s.name))
  for (const file of files) {
    const where = `compose file ${JSON.stringify(file.path)}`
    const { doc } = parsedCompose(file.text)
    if (doc.errors.length > 0) {
      problems.push(`${where} is not YAML that can be read`)
      continue
    }
    try {
      for (const top of entriesOf(doc.contents, doc)) {
        if (top.key.startsWith('x-')) continue
        if (!TOP_KEYS.has(top.key)) {
          problems.push(`${where} has top-level ${JSON.stringify(top.key)}${top.key.toLowerCase() === 'include' ? ', which reads other files' : ''}`)
          continue
        }
        for (const value of top.values) {
          if (top.key === 'services') problems.push(...serviceProblems(value, doc, where, release.stack, services))
          if (top.key === 'secrets' || top.key === 'configs') problems.push(...objectProblems(value, doc, where, top.key, allowedObjects))
        }
      }
    } catch (error) {
      if (!(error instanceof Unreadable)) throw error
      problems.push(`${where} cannot be read safely: ${error.message}`)
    }
  }
  // Recomputed from the text, never taken from the record.
  const recorded = new Set(release.variables)
  const extra = variablesOf(files).filter(name => !recorded.has(name))
  if (extra.length > 0) problems.push(`the compose files read variables the release did not record: ${extra.join(', ')}`)
  return problems
}

function serviceProblems(node: unknown, doc: YAML.Document.Parsed, where: string, stack: string, known: ReadonlySet<string>): string[] {
  if (resolved(node, doc) === null || scalarOf(node, doc) === null) return []
  const problems: string[] = []
  for (const service of entriesOf(node, doc)) {
    if (!known.has(`${stack}_${service.key}`)) problems.push(`${where} has service ${JSON.stringify(service.key)}, which the release did not run`)
    for (const spec of service.values) {
      if (scalarOf(spec, doc) === null) continue
      for (const { key } of entriesOf(spec, doc))
        if (FILE_KEYS.has(key.toLowerCase())) problems.push(`${where}: service ${JSON.stringify(service.key)} has ${key}, which reads files on the runner`)
    }
  }
  return problems
}

function objectProblems(node: unknown, doc: YAML.Document.Parsed, where: string, section: string, allowed: ReadonlySet<string>): string[] {
  if (scalarOf(node, doc) === null) return []
  const problems: string[] = []
  for (const entry of entriesOf(node, doc)) {
    const what = `${where}: ${section} ${JSON.stringify(entry.key)}`
    for (const value of entry.values) {
      const fields = entriesOf(value, doc)
      const other = fields.filter(f => f.key !== 'external' && f.key !== 'name')
      const external = fields.find(f => f.key === 'external')
      const names = fields.find(f => f.key === 'name')?.values.map(v => scalarOf(v, doc)) ?? [entry.key]
      if (other.length > 0 || !external || !external.values.every(v => scalarOf(v, doc) === true)) {
        problems.push(`${what} is not external: a rollback creates no secret or config, and reads no file`)
      } else if (!names.every(name => typeof name === 'string' && allowed.has(name))) {
        problems.push(`${what} names a version the release's services did not use`)
      }
    }
  }
  return problems
}

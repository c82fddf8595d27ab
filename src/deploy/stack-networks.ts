// The networks a `docker stack deploy` of these compose files will create,
// and the edits that give each a subnet of its own in the compose copy (see
// subnets.ts for why). Read as the docker CLI reads them (convert.Networks):
// only networks some service uses are created, `default` for a service that
// names none; `external` ones and those already on the swarm are left alone.
// Pure: compose texts in, networks and text edits out. The user's files are
// never changed, nor is what the release records: a rollback renders again.
import * as YAML from 'yaml'
import { mergedGet, mergedPairs, keyText, parsedCompose, unaliased } from './compose-yaml.js'
import type { AddressPool, NetworkSubnets } from '../ports.js'
import type { Edit } from './stack-objects.js'
import { addPair, applyEdits } from './stack-objects.js'
import { chooseSubnets, takenSubnets } from './subnets.js'

export interface NetworkToCreate {
  /** The key under top-level `networks:` (`default` for the implicit one). */
  key: string
  /** What Swarm will name it: `<stack>_<key>`, or the entry's `name:`. */
  name: string
}

type File = { path: string; text: string }

/** One file's top-level `networks:` map as written there (not an alias, not merged in), if it is one. */
function ownNetworksMap(doc: YAML.Document.Parsed): { map: YAML.YAMLMap | undefined; node: unknown } {
  const top = doc.contents
  if (!YAML.isMap(top)) return { map: undefined, node: undefined }
  const pair = top.items.find(p => keyText(p.key) === 'networks')
  const node = pair?.value
  return { map: YAML.isMap(node) ? node : undefined, node: pair ? (node ?? null) : undefined }
}

/** The network keys the services of one file name, and the services that name none. */
function serviceNetworks(doc: YAML.Document.Parsed, used: Set<string>, naming: Map<string, boolean>): void {
  const services = mergedGet(doc, doc.contents, 'services')
  if (!YAML.isMap(services)) return
  for (const pair of mergedPairs(doc, services)) {
    const name = keyText(pair.key)
    const networks = mergedGet(doc, pair.value, 'networks')
    if (networks === undefined) {
      if (!naming.has(name)) naming.set(name, false)
      continue
    }
    naming.set(name, true)
    if (YAML.isSeq(networks)) for (const item of networks.items) used.add(keyText(unaliased(doc, item)))
    if (YAML.isMap(networks)) for (const p of mergedPairs(doc, networks)) used.add(keyText(p.key))
  }
}

/** Why an entry is not ours to give a subnet; undefined when it is. */
function leftAsWritten(doc: YAML.Document.Parsed, entry: unknown): string | undefined {
  const external = mergedGet(doc, entry, 'external')
  if (external !== undefined && !(YAML.isScalar(external) && external.value === false)) return 'external'
  if (mergedGet(doc, entry, 'ipam') !== undefined) return 'its own ipam'
  // An IPv6 network needs a v6 subnet beside the v4 one given here: its addresses are left to Docker.
  const ipv6 = mergedGet(doc, entry, 'enable_ipv6')
  if (ipv6 !== undefined && !(YAML.isScalar(ipv6) && ipv6.value === false)) return 'IPv6'
  const driver = mergedGet(doc, entry, 'driver')
  if (driver !== undefined && !(YAML.isScalar(driver) && driver.value === 'overlay')) return 'another driver'
  const name = mergedGet(doc, entry, 'name')
  if (name !== undefined && !(YAML.isScalar(name) && typeof name.value === 'string' && !name.value.includes('$'))) return 'a name read from a variable'
  return undefined
}

/**
 * The networks `docker stack deploy` will create and this deploy may give a
 * subnet: used by a service, not external, no `ipam`, the overlay driver, and
 * no network of that name on the swarm yet (an existing one keeps its subnet).
 * Files that do not parse give none: Docker reports them in its own words.
 */
export function networksToCreate(files: readonly File[], stack: string, existing: ReadonlySet<string>): NetworkToCreate[] {
  const docs = files.map(f => parsedCompose(f.text).doc)
  if (docs.some(doc => doc.errors.length > 0)) return []
  const used = new Set<string>()
  const naming = new Map<string, boolean>()
  for (const doc of docs) serviceNetworks(doc, used, naming)
  if ([...naming.values()].some(named => !named)) used.add('default')
  const result: NetworkToCreate[] = []
  for (const key of [...used].sort()) {
    // Docker's merge takes a network's entry whole from the last file that declares it.
    let last: { doc: YAML.Document.Parsed; entry: unknown } | undefined
    for (const doc of docs) {
      const networks = mergedGet(doc, doc.contents, 'networks')
      if (!YAML.isMap(networks)) continue
      const pair = mergedPairs(doc, networks).find(p => keyText(p.key) === key)
      if (pair) last = { doc, entry: unaliased(doc, pair.value) }
    }
    const declared = last !== undefined
    const reason = last && leftAsWritten(last.doc, last.entry)
    const own = last && mergedGet(last.doc, last.entry, 'name')
    const name = YAML.isScalar(own) && typeof own.value === 'string' ? own.value : `${stack}_${key}`
    // An undeclared network other than `default` is Docker's error to report.
    if (reason !== undefined || (!declared && key !== 'default') || existing.has(name)) continue
    result.push({ key, name })
  }
  return result
}

/** `{config: [{subnet: "…"}]}`, the compose form Docker passes on as the network's IPAM subnet. */
function ipamText(subnet: string): string {
  return `{config: [{subnet: ${JSON.stringify(subnet)}}]}`
}

const nodeOf = (text: string): unknown => YAML.parseDocument(text).contents

/**
 * The edit that gives one network its subnet: in the last file whose
 * `networks:` has it (the entry Docker's merge reads last), or for the
 * implicit `default`, in the first file. Undefined when the text is laid out
 * so that an edit could change something else (an entry shared through an
 * anchor or merged in, a file of several documents): that network gets
 * Docker's choice, as before.
 */
function subnetEdit(files: readonly File[], key: string, subnet: string): { file: number; edit: Edit } | undefined {
  const ipam = ipamText(subnet)
  for (let file = files.length - 1; file >= 0; file--) {
    const text = files[file]!.text
    const doc = parsedCompose(text).doc
    const { map, node } = ownNetworksMap(doc)
    if (node === undefined) continue
    if (!map) return undefined
    const pair = map.items.find(p => keyText(p.key) === key)
    if (!pair) {
      if (mergedPairs(doc, map).some(p => keyText(p.key) === key)) return undefined
      continue
    }
    const entry = pair.value
    if (YAML.isMap(entry)) return entry.anchor ? undefined : { file, edit: addPair(text, entry, 'ipam', ipam, nodeOf(ipam)) }
    if (entry === null || (YAML.isScalar(entry) && entry.value === null && !entry.anchor)) {
      // `front:` or `front: ~`: the null becomes the entry.
      const [start, end] = YAML.isScalar(entry) ? entry.range! : [(pair.key as YAML.Scalar).range![1], (pair.key as YAML.Scalar).range![1]]
      const replacement = start === end ? ` {ipam: ${ipam}}` : `{ipam: ${ipam}}`
      return { file, edit: { start, end, text: replacement } }
    }
    return undefined
  }
  if (key !== 'default' || files.length === 0) return undefined
  // The implicit default network: declared in the first file.
  const text = files[0]!.text
  const doc = parsedCompose(text).doc
  const { map, node } = ownNetworksMap(doc)
  const entryText = `default: {ipam: ${ipam}}`
  if (map) return map.anchor ? undefined : { file: 0, edit: addPair(text, map, 'default', `{ipam: ${ipam}}`, nodeOf(`{ipam: ${ipam}}`)) }
  if (node !== undefined) return undefined
  const top = doc.contents
  // Appended as a top-level key: only to a block mapping that nothing follows.
  if (!YAML.isMap(top) || top.flow || /^\.\.\.\s*$/m.test(text)) return undefined
  const newline = text.includes('\r\n') ? '\r\n' : '\n'
  const end = text.length
  const before = text.endsWith('\n') ? '' : newline
  return { file: 0, edit: { start: end, end, text: `${before}networks: {${entryText}}${newline}` } }
}

/**
 * Per file, the edits that give each network its subnet, and the networks
 * that could not be edited (they get Docker's choice).
 */
export function subnetEdits(files: readonly File[], subnets: ReadonlyArray<{ key: string; subnet: string }>): { edits: Edit[][]; skipped: string[] } {
  const edits: Edit[][] = files.map(() => [])
  const skipped: string[] = []
  for (const { key, subnet } of subnets) {
    const found = subnetEdit(files, key, subnet)
    if (found) edits[found.file]!.push(found.edit)
    else skipped.push(key)
  }
  return { edits, skipped }
}

/** What the compose copy gives each new network: its subnet, or Docker's choice where none could be given. */
export interface SubnetPlan {
  /** Per file, the text with the subnets in, or undefined when it needs no change. */
  texts: Array<string | undefined>
  assigned: Array<{ name: string; subnet: string }>
  /** Networks left to Docker's choice: no free subnet, or a layout not edited. */
  unassigned: string[]
}

/** Gives each network to create a free subnet of the pool (chooseSubnets) in the compose texts. */
export function planSubnets(
  files: readonly File[],
  create: readonly NetworkToCreate[],
  pool: AddressPool,
  networks: readonly NetworkSubnets[],
  random?: () => number
): SubnetPlan {
  const subnets = chooseSubnets(pool, takenSubnets(networks), create.length, random)
  const chosen = create.slice(0, subnets.length).map((network, i) => ({ ...network, subnet: subnets[i]! }))
  const { edits, skipped } = subnetEdits(files, chosen)
  return {
    texts: files.map((file, i) => (edits[i]!.length > 0 ? applyEdits(file.text, edits[i]!) : undefined)),
    assigned: chosen.filter(n => !skipped.includes(n.key)).map(n => ({ name: n.name, subnet: n.subnet })),
    unassigned: create.filter(n => !chosen.some(c => c.key === n.key) || skipped.includes(n.key)).map(n => n.name)
  }
}

/** For the log: where the subnets came from. */
export function poolText(pool: AddressPool): string {
  const pools = `${pool.pools.join(', ')} in /${pool.size}s`
  return pool.defaulted ? `Docker's default pool ${pools} (the engine's /info did not give the swarm's)` : `the swarm's address pool ${pools}`
}

// Compose files as people write them for `docker compose`, made into the one
// file `docker stack deploy` reads. The merge itself (include:, extends:,
// paths) is the Compose Specification's reference implementation's:
// `docker compose config --no-interpolate --no-normalize`, which keeps every
// `${VAR}` as written. Its output is compose's canonical model, and the
// docker CLI's stack loader (28.x, schema 3.13) refuses parts of it; this
// file turns those parts back into the forms the loader reads as the same
// thing, and applies the profiles, which compose leaves to its later steps
// when it does not interpolate. Pure: text in, text out.
//
// What the loader refuses, each checked with compose 2.40.3 and CLI 28.2
// (`docker stack config` on the output; __tests__/fixtures/compose-spec):
// - `profiles:` ("Additional property profiles is not allowed"), `name:`;
// - a port's `published: "8080"` ("must be a integer"), a range
//   `published: 8000-8001` with one target, and `host_ip` (the loader reads
//   `127.0.0.1:81:81` as port 81 on every address, with a warning);
// - `depends_on` as a map ("must be a list");
// - `env_file` entries as `{path, required}` ("must be a string");
// - `devices` as `{source, target, permissions}` ("must be a string").
// Besides, compose reads a volume whose source is a reference
// (`${DATA:-./d}:/data`) as a named volume before the value is known; the
// short form is put back, so the loader decides once it has the value. A
// secret's `target: /run/secrets/<source>` is compose's default made
// explicit: it is dropped, so the spec is the one the short form gives.
import * as YAML from 'yaml'
import { keyText, parsedCompose } from './compose-yaml.js'

/** Something in a compose file that only `docker compose` reads, and where. */
export interface ComposeFeature {
  file: string
  line: number
  /** `include:`, `extends:` (service web), `profiles:` (service debug), `name:`. */
  what: string
}

/** What in these files needs the Compose plugin: empty for files `docker stack deploy` reads as they are. */
export function composeOnlyFeatures(files: ReadonlyArray<{ path: string; text: string }>): ComposeFeature[] {
  const found: ComposeFeature[] = []
  for (const { path, text } of files) {
    const { doc, lines } = parsedCompose(text)
    if (doc.errors.length > 0 || !YAML.isMap(doc.contents)) continue
    const at = (node: unknown): number => lines.linePos((node as YAML.Node | undefined)?.range?.[0] ?? 0).line
    for (const pair of doc.contents.items) {
      const key = keyText(pair.key)
      if (key === 'include' || key === 'name') found.push({ file: path, line: at(pair.key), what: `${key}:` })
      if (key !== 'services' || !YAML.isMap(pair.value)) continue
      for (const service of pair.value.items) {
        if (!YAML.isMap(service.value)) continue
        for (const entry of service.value.items) {
          const what = keyText(entry.key)
          if (what === 'extends' || what === 'profiles') found.push({ file: path, line: at(entry.key), what: `${what}: (service ${keyText(service.key)})` })
        }
      }
    }
  }
  return found
}

/** `docker compose config` as the merge: no interpolation (values stay with docker stack deploy), no .env (read by the action itself, as data). */
export function composeConfigArgs(files: readonly string[], project: string): string[] {
  return [
    'compose',
    // compose would read COMPOSE_FILE, COMPOSE_PROFILES... from it too; the action reads .env as values only.
    '--env-file',
    '/dev/null',
    '--project-name',
    project,
    ...files.flatMap(file => ['--file', file]),
    'config',
    '--no-interpolate',
    '--no-normalize',
    '--format',
    'yaml'
  ]
}

/** A stack name as a compose project name, which must be lower case. */
export function projectNameOf(stack: string): string {
  return stack.toLowerCase()
}

export interface StackForm {
  text: string
  /** The services deployed, in the file's order. */
  services: string[]
  /** Services left out because none of their profiles is enabled. */
  leftOut: string[]
}

/**
 * Compose's canonical output as `docker stack deploy` reads it (see the top
 * of this file). `profiles` as `docker compose --profile`: a service without
 * profiles is always in, `*` enables them all. `exists` says whether an
 * `env_file` with `required: false` is there.
 */
export function stackForm(text: string, profiles: readonly string[], exists: (path: string) => boolean): StackForm {
  const doc = YAML.parseDocument(text)
  if (doc.errors.length > 0) throw new Error(`docker compose config printed YAML that does not parse: ${doc.errors[0]!.message}`)
  doc.delete('name')
  const services = doc.get('services')
  const kept: string[] = []
  const leftOut: string[] = []
  if (YAML.isMap(services)) {
    for (const pair of [...services.items]) {
      const name = keyText(pair.key)
      const service = pair.value
      if (!YAML.isMap(service)) {
        kept.push(name)
        continue
      }
      if (!enabled(service.get('profiles'), profiles)) {
        services.delete(pair.key)
        leftOut.push(name)
        continue
      }
      service.delete('profiles')
      rewriteService(doc, service, exists)
      kept.push(name)
    }
  }
  return { text: doc.toString({ lineWidth: 0 }), services: kept, leftOut }
}

function enabled(own: unknown, active: readonly string[]): boolean {
  if (!YAML.isSeq(own) || own.items.length === 0) return true
  if (active.includes('*')) return true
  return own.items.some(item => YAML.isScalar(item) && active.includes(String(item.value)))
}

const scalar = (node: unknown): unknown => (YAML.isScalar(node) ? node.value : undefined)

function rewriteService(doc: YAML.Document, service: YAML.YAMLMap, exists: (path: string) => boolean): void {
  const ports = service.get('ports')
  if (YAML.isSeq(ports)) ports.items = ports.items.flatMap(item => stackPorts(doc, item))

  const dependsOn = service.get('depends_on')
  if (YAML.isMap(dependsOn)) service.set('depends_on', doc.createNode(dependsOn.items.map(pair => keyText(pair.key))))

  const envFile = service.get('env_file')
  if (YAML.isSeq(envFile)) {
    const paths = envFile.items.flatMap(item => {
      if (!YAML.isMap(item)) return [item]
      const file = String(scalar(item.get('path', true)) ?? '')
      const optional = scalar(item.get('required', true)) === false
      return optional && !exists(file) ? [] : [doc.createNode(file)]
    })
    if (paths.length === 0) service.delete('env_file')
    else envFile.items = paths
  }

  const devices = service.get('devices')
  if (YAML.isSeq(devices)) {
    devices.items = devices.items.map(item => {
      if (!YAML.isMap(item)) return item
      const part = (key: string): string => String(scalar(item.get(key, true)) ?? '')
      // rwm is what the short form means without permissions.
      const permissions = part('permissions') === 'rwm' ? '' : part('permissions')
      return doc.createNode([part('source'), part('target'), permissions].filter(Boolean).join(':'))
    })
  }

  const volumes = service.get('volumes')
  if (YAML.isSeq(volumes)) volumes.items = volumes.items.map(item => shortVolume(doc, item))

  const secrets = service.get('secrets')
  if (YAML.isSeq(secrets)) {
    for (const item of secrets.items) {
      if (YAML.isMap(item) && scalar(item.get('target', true)) === `/run/secrets/${String(scalar(item.get('source', true)))}`) item.delete('target')
    }
  }
}

/** One long-form port as the loader reads it: published a number, a range one entry per port, no host_ip. */
function stackPorts(doc: YAML.Document, item: unknown): unknown[] {
  if (!YAML.isMap(item)) return [item]
  item.delete('host_ip')
  const published = scalar(item.get('published', true))
  if (typeof published !== 'string') return [item]
  if (/^\d+$/.test(published)) {
    item.set('published', Number(published))
    return [item]
  }
  const range = /^(\d+)-(\d+)$/.exec(published)
  if (!range) return [item]
  const [from, to] = [Number(range[1]), Number(range[2])]
  if (to < from) return [item]
  return Array.from({ length: to - from + 1 }, (_, i) => {
    const copy = item.clone() as YAML.YAMLMap
    copy.set('published', doc.createNode(from + i))
    return copy
  })
}

/** A named volume whose source is a reference goes back to the short form: its value decides whether it is a bind mount. */
function shortVolume(doc: YAML.Document, item: unknown): unknown {
  if (!YAML.isMap(item) || scalar(item.get('type', true)) !== 'volume') return item
  const source = scalar(item.get('source', true))
  if (typeof source !== 'string' || !source.includes('$')) return item
  const readOnly = scalar(item.get('read_only', true)) === true
  return doc.createNode(`${source}:${String(scalar(item.get('target', true)) ?? '')}${readOnly ? ':ro' : ''}`)
}

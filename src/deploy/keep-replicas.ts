// Replica counts owned by someone else (an autoscaler, sablier, swarm-cronjob,
// a person's `docker service scale`): with `keep-replicas: true`, or a
// service's label `io.swarm-deploy.replicas: keep`, an existing service is
// deployed with its live count instead of the compose file's. The count goes
// into one more compose file given last to `docker stack deploy`, which
// overrides only `deploy.replicas`; a new service gets the file's.
import * as YAML from 'yaml'
import type { Service } from '../swarm/model.js'
import { keyText, mergedGet, mergedPairs, overrideHeader, parsedCompose, unaliased } from './compose-yaml.js'

export const REPLICAS_LABEL = 'io.swarm-deploy.replicas'

export interface KeptReplicas {
  /** The service's key in the compose files. */
  service: string
  live: number
  /** What the compose files say (1 when they say nothing, as Swarm). */
  file: number
}

interface ComposeService {
  replicas: number | undefined
  mode: string | undefined
  keep: boolean
}

const scalar = (node: unknown): unknown => (YAML.isScalar(node) ? node.value : undefined)

/** `deploy.labels` as a map or as `key=value` lines: whether it says keep. */
function labelSaysKeep(doc: YAML.Document, labels: unknown): boolean | undefined {
  if (YAML.isMap(labels)) {
    const pair = mergedPairs(doc, labels).find(p => keyText(p.key) === REPLICAS_LABEL)
    return pair === undefined ? undefined : String(scalar(unaliased(doc, pair.value))) === 'keep'
  }
  if (YAML.isSeq(labels)) {
    const line = labels.items.map(item => String(scalar(unaliased(doc, item)))).find(text => text.split('=')[0]?.trim() === REPLICAS_LABEL)
    return line === undefined ? undefined : line.slice(line.indexOf('=') + 1).trim() === 'keep'
  }
  return undefined
}

/** Each service's replicas, mode and keep label, later files over earlier ones as docker's loader merges them. */
function composeServices(files: Array<{ path: string; text: string }>): Map<string, ComposeService> {
  const services = new Map<string, ComposeService>()
  for (const file of files) {
    const { doc } = parsedCompose(file.text)
    // Docker reports a file it cannot read in its own words.
    if (doc.errors.length > 0) continue
    const map = unaliased(doc, doc.get('services', true))
    if (!YAML.isMap(map)) continue
    for (const pair of mergedPairs(doc, map)) {
      const name = keyText(pair.key)
      const deploy = mergedGet(doc, pair.value, 'deploy')
      const was = services.get(name) ?? { replicas: undefined, mode: undefined, keep: false }
      const replicas = Number(scalar(mergedGet(doc, deploy, 'replicas')))
      const mode = scalar(mergedGet(doc, deploy, 'mode'))
      services.set(name, {
        replicas: Number.isInteger(replicas) ? replicas : was.replicas,
        mode: typeof mode === 'string' ? mode : was.mode,
        keep: labelSaysKeep(doc, mergedGet(doc, deploy, 'labels')) ?? was.keep
      })
    }
  }
  return services
}

/**
 * The services of the compose files that keep their live count: those the
 * setting covers (all with keepAll, else those labelled keep), replicated in
 * the file and on the swarm, whose live count differs from the file's.
 */
export function keptReplicas(files: Array<{ path: string; text: string }>, live: Service[], stack: string, keepAll: boolean): KeptReplicas[] {
  const running = new Map(live.map(s => [s.Spec.Name, s]))
  const kept: KeptReplicas[] = []
  for (const [name, service] of composeServices(files)) {
    if (!keepAll && !service.keep) continue
    if (service.mode !== undefined && service.mode !== 'replicated') continue
    const count = running.get(`${stack}_${name}`)?.Spec.Mode.Replicated?.Replicas
    const file = service.replicas ?? 1
    if (count !== undefined && count !== file) kept.push({ service: name, live: count, file })
  }
  return kept
}

/** The compose file that sets these services' replicas. */
export function replicasFile(files: Array<{ path: string; text: string }>, kept: KeptReplicas[]): string {
  const lines = overrideHeader(files)
  lines.push('services:', ...kept.flatMap(k => [`  ${JSON.stringify(k.service)}:`, '    deploy:', `      replicas: ${k.live}`]))
  return `${lines.join('\n')}\n`
}

export const keptLine = (k: KeptReplicas): string => `${k.service} keeps its live replica count, ${k.live} (the compose file says ${k.file})`

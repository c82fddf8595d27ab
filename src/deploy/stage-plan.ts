// Deploy hooks and waves, read from the compose files' `deploy.labels`: the
// order a deploy runs in (pre-deploy hooks, waves low to high, post-deploy
// hooks) and the compose text each step deploys. Swarm has neither; `docker
// stack deploy` without --prune leaves the services a file does not name as
// they are, so a step is a deploy of a copy that names only its services.
// Pure: compose text in, the steps and their copies out.
import * as YAML from 'yaml'
import { unreachable } from '../exhaustive.js'
import { keyText, mergedGet, mergedPairs, overrideHeader, parsedCompose, unaliased } from './compose-yaml.js'

export const HOOK_LABEL = 'io.swarm-deploy.hook'
export const WAVE_LABEL = 'io.swarm-deploy.wave'

export type HookKind = 'pre-deploy' | 'post-deploy'
export type StageKind = HookKind | 'wave'

/** One step of a deploy: the compose services it deploys and judges. */
export interface Stage {
  kind: StageKind
  /** For a wave: its number. */
  wave?: number
  /** The services (compose keys) this step deploys and is judged by. */
  services: string[]
  /** The last wave: the whole file but the hooks, with --prune if asked. */
  last?: boolean
}

/** What the compose files declare: hooks by kind and the ordinary services by wave. */
export interface StagePlan {
  preDeploy: string[]
  postDeploy: string[]
  /** Waves in ascending order; services without a wave label are in wave 0. */
  waves: Array<{ wave: number; services: string[] }>
}

interface ServiceFacts {
  labels: Map<string, string>
  mode: string | undefined
}

/** `deploy.labels` as a map (compose allows a map or a list of `key=value`). */
function labelsOf(doc: YAML.Document, labels: unknown): Map<string, string> {
  const found = new Map<string, string>()
  if (YAML.isMap(labels)) {
    for (const pair of mergedPairs(doc, labels)) {
      const value = unaliased(doc, pair.value)
      found.set(keyText(pair.key), YAML.isScalar(value) ? String(value.value) : '')
    }
  } else if (YAML.isSeq(labels)) {
    for (const item of labels.items) {
      const text = String(YAML.isScalar(item) ? item.value : '')
      const at = text.indexOf('=')
      found.set(at < 0 ? text : text.slice(0, at), at < 0 ? '' : text.slice(at + 1))
    }
  }
  return found
}

/** Each service's deploy labels and mode, later files over earlier ones, as docker merges them. */
function servicesOf(files: Array<{ path: string; text: string }>): Map<string, ServiceFacts> {
  const services = new Map<string, ServiceFacts>()
  for (const { text } of files) {
    const { doc } = parsedCompose(text)
    // Docker reports a file it cannot read in its own words.
    if (doc.errors.length > 0) continue
    const map = unaliased(doc, doc.get('services'))
    if (!YAML.isMap(map)) continue
    for (const pair of mergedPairs(doc, map)) {
      const name = keyText(pair.key)
      const facts = services.get(name) ?? { labels: new Map<string, string>(), mode: undefined }
      const deploy = mergedGet(doc, pair.value, 'deploy')
      for (const [key, value] of labelsOf(doc, mergedGet(doc, deploy, 'labels'))) facts.labels.set(key, value)
      const mode = mergedGet(doc, deploy, 'mode')
      if (YAML.isScalar(mode)) facts.mode = String(mode.value)
      services.set(name, facts)
    }
  }
  return services
}

/**
 * The hooks and waves the compose files declare, or every problem with them
 * (checked before anything is built or deployed).
 */
export function stagePlanOf(files: Array<{ path: string; text: string }>): { plan: StagePlan; problems: string[] } {
  const problems: string[] = []
  const preDeploy: string[] = []
  const postDeploy: string[] = []
  const waves = new Map<number, string[]>()
  for (const [name, { labels, mode }] of servicesOf(files)) {
    const hook = labels.get(HOOK_LABEL)
    const wave = labels.get(WAVE_LABEL)
    if (hook !== undefined) {
      if (hook !== 'pre-deploy' && hook !== 'post-deploy') {
        problems.push(`compose-file: service ${name}: ${HOOK_LABEL} is '${hook}': use pre-deploy or post-deploy`)
        continue
      }
      if (mode !== 'replicated-job' && mode !== 'global-job') {
        problems.push(
          `compose-file: service ${name}: a ${hook} hook must be a job: set deploy.mode to replicated-job or global-job (it is ${mode ?? 'replicated'})`
        )
        continue
      }
      if (wave !== undefined) {
        problems.push(`compose-file: service ${name}: a hook has no wave: remove ${WAVE_LABEL} from it, or ${HOOK_LABEL}`)
        continue
      }
      ;(hook === 'pre-deploy' ? preDeploy : postDeploy).push(name)
      continue
    }
    const number = wave === undefined ? 0 : /^\d{1,6}$/.test(wave.trim()) ? Number(wave.trim()) : undefined
    if (number === undefined) {
      problems.push(`compose-file: service ${name}: ${WAVE_LABEL} is '${wave}': use a whole number 0 or more, like "1"`)
      continue
    }
    waves.set(number, [...(waves.get(number) ?? []), name])
  }
  const sorted = [...waves.entries()].sort(([a], [b]) => a - b).map(([wave, services]) => ({ wave, services: services.sort() }))
  return { plan: { preDeploy: preDeploy.sort(), postDeploy: postDeploy.sort(), waves: sorted }, problems }
}

/** Whether the plan needs more than the one `docker stack deploy` of the whole file. */
export const isStaged = (plan: StagePlan): boolean => plan.preDeploy.length > 0 || plan.postDeploy.length > 0 || plan.waves.length > 1

/**
 * The steps in the order they run. `runHooks` false (a rollback without
 * hooks-on-rollback) leaves the hooks out: no step deploys them, so they do
 * not run (Swarm runs a job again on every update of its service).
 */
export function stagesOf(plan: StagePlan, runHooks: boolean): Stage[] {
  const stages: Stage[] = []
  if (runHooks && plan.preDeploy.length > 0) stages.push({ kind: 'pre-deploy', services: plan.preDeploy })
  plan.waves.forEach(({ wave, services }, i) => {
    const last = i === plan.waves.length - 1
    stages.push(last ? { kind: 'wave', wave, services, last } : { kind: 'wave', wave, services })
  })
  // A stack of hooks alone still gets its last (empty) wave: the stack's networks, secrets, configs and prune.
  if (plan.waves.length === 0) stages.push({ kind: 'wave', wave: 0, services: [], last: true })
  if (runHooks && plan.postDeploy.length > 0) stages.push({ kind: 'post-deploy', services: plan.postDeploy })
  return stages
}

/** "pre-deploy hook migrate", "wave 1 (api, worker)": how a step is named in the log, the verdict and the summary. */
export function stageName(stage: Stage): string {
  switch (stage.kind) {
    case 'pre-deploy':
    case 'post-deploy':
      return `${stage.kind} hook${stage.services.length > 1 ? 's' : ''} ${stage.services.join(', ')}`
    case 'wave':
      return `wave ${stage.wave ?? 0}${stage.services.length > 0 ? ` (${stage.services.join(', ')})` : ''}`
    default:
      return unreachable(stage.kind)
  }
}

/**
 * The compose files with only the `keep` services: every other entry of
 * each file's `services:` is cut from the text, which is otherwise left as
 * written (re-serialising would change what Go's yaml reads, see
 * stack-objects.ts). Top-level networks, secrets and configs stay: `docker
 * stack deploy` creates the networks its services use, and the secrets and
 * configs are the versions the whole deploy creates anyway.
 */
export function keepServices(files: Array<{ path: string; text: string }>, keep: ReadonlySet<string>): Array<{ path: string; text: string }> {
  return files.map(file => {
    const { doc } = parsedCompose(file.text)
    if (doc.errors.length > 0) return file
    const map = doc.get('services', true)
    if (!YAML.isMap(map)) return file
    const cut = map.items.filter(pair => !keep.has(keyText(pair.key)))
    if (cut.length === 0) return file
    if (map.flow) throw new Error(`compose-file: ${file.path}: write services: as a block mapping (one service per line) to use hooks or waves`)
    const text = file.text
    const lineStart = (at: number): number => text.lastIndexOf('\n', at - 1) + 1
    const lineEnd = (at: number): number => {
      const end = text.indexOf('\n', at)
      return end < 0 ? text.length : end + 1
    }
    const startOf = (pair: YAML.Pair): number => lineStart((pair.key as YAML.Node).range![0])
    const endOf = (pair: YAML.Pair): number => {
      const value = pair.value as YAML.Node | null
      return lineEnd(value?.range ? Math.max(value.range[1] - 1, (pair.key as YAML.Node).range![1]) : (pair.key as YAML.Node).range![1])
    }
    if (cut.length === map.items.length) {
      // Nothing of this file's services is kept: an empty map, not a null one.
      const start = startOf(map.items[0]!)
      return { path: file.path, text: `${text.slice(0, start)}  {}\n${text.slice(endOf(map.items.at(-1)!))}` }
    }
    const edits = cut.map(pair => {
      const at = map.items.indexOf(pair)
      const next = map.items[at + 1]
      return { start: startOf(pair), end: next ? startOf(next) : endOf(pair) }
    })
    let result = text
    for (const edit of edits.sort((a, b) => b.start - a.start)) result = result.slice(0, edit.start) + result.slice(edit.end)
    return { path: file.path, text: result }
  })
}

/** Every problem with the hooks and waves of the compose files, before anything is built or deployed. */
export function stageProblems(files: Array<{ path: string; text: string }>): string[] {
  const { plan, problems } = stagePlanOf(files)
  if (problems.length > 0 || !isStaged(plan)) return problems
  for (const stage of stagesOf(plan, true)) {
    try {
      for (const copy of keepServices(files, new Set(stage.services))) {
        // An anchor defined in a service a step leaves out cannot be used by one it keeps.
        if (!readable(copy.text))
          problems.push(
            `compose-file: ${copy.path}: the copy for ${stageName(stage)} does not parse: define anchors outside services (under an x- key) to use hooks or waves`
          )
      }
    } catch (error) {
      problems.push((error as Error).message)
    }
  }
  return [...new Set(problems)]
}

function readable(text: string): boolean {
  const { doc } = parsedCompose(text)
  try {
    // An alias whose anchor was cut parses, and fails only when read.
    doc.toJS()
    return doc.errors.length === 0
  } catch {
    return false
  }
}

export const RUN_LABEL = 'io.swarm-deploy.run'

/**
 * A compose file, given after the others, that puts a container label with
 * this step's ID on the hooks: their task template changes on every deploy,
 * so the judge waits for this deploy's run of the job, even when nothing
 * else of the hook changed (Swarm runs a job again on every update anyway).
 * It repeats the first file's `version`, which docker requires to match.
 */
export function runLabelFile(files: Array<{ path: string; text: string }>, services: string[], id: string): string {
  const lines = overrideHeader(files)
  lines.push('services:', ...services.flatMap(name => [`  ${JSON.stringify(name)}:`, '    labels:', `      ${RUN_LABEL}: ${JSON.stringify(id)}`]))
  return `${lines.join('\n')}\n`
}

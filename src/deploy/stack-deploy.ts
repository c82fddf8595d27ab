// `docker stack deploy` with the runner's CLI, aimed at the target engine
// through the tunnel socket. Compose files are read here on the runner;
// interpolation values live only in this one child's environment, so they
// reach the manager inside API request bodies and nowhere else.
import { randomBytes } from 'node:crypto'
import * as path from 'node:path'
import { parsedCompose } from './compose-yaml.js'
import type { DockerCli, Host, SwarmApi } from '../ports.js'
import { runOrThrow } from '../docker-cli.js'
import { keepServices, runLabelFile } from './stage-plan.js'
import { renderStackObjects } from './stack-objects.js'
import { networksToCreate, planSubnets, poolText } from './stack-networks.js'
import { checkVariables, findBareEnvironment, findVariables } from './variables.js'
import { InputError } from '../inputs/parse.js'
import type { KeptReplicas } from './keep-replicas.js'
import { replicasFile } from './keep-replicas.js'

export interface DeployPlan {
  stack: string
  composeFiles: string[]
  prune: boolean
  /** Compose interpolation values: the `env` input, variables let through by env-passthrough, and IMAGE. */
  variables: Map<string, string>
  /** Keys secret version names (see contentHash). */
  secretKey: Buffer
  /** Epoch ms: the rollout deadline, which bounds `docker stack deploy` too. */
  deadline: number
  /** Only these services of the compose files (a step of a staged deploy, stage-plan.ts); all when absent. */
  services?: ReadonlySet<string>
  /** Hooks (of `services`) that get a container label with this value: see runLabelFile. */
  runLabel?: { services: string[]; id: string }
  /** Existing services deployed with their live replica count (keep-replicas.ts). */
  replicas?: KeptReplicas[]
}

export function stackDeployArgs(plan: Pick<DeployPlan, 'stack' | 'prune' | 'composeFiles'>): string[] {
  const args = ['stack', 'deploy', '--with-registry-auth']
  if (plan.prune) args.push('--prune')
  for (const file of plan.composeFiles) args.push('--compose-file', file)
  args.push(plan.stack)
  return args
}

export function deployEnvironment(plan: Pick<DeployPlan, 'variables'>, socketPath: string): Record<string, string> {
  return { ...Object.fromEntries(plan.variables), DOCKER_HOST: `unix://${socketPath}` }
}

/**
 * The values the deploy child gets: only those the compose files read. The
 * rest (everything `env-passthrough: true` let through, values for `secrets:`
 * created over the API) has no business in docker's environment.
 */
export function deployVariables(variables: ReadonlyMap<string, string>, compose: Array<{ path: string; text: string }>): Map<string, string> {
  const read = referencedNames(compose)
  return new Map([...variables].filter(([name]) => read.has(name)))
}

export async function stackDeploy(cli: DockerCli, plan: DeployPlan, socketPath: string, now: () => number): Promise<void> {
  await runOrThrow(cli, 'docker stack deploy', stackDeployArgs(plan), {
    // The one child that gets the compose values.
    env: deployEnvironment(plan, socketPath),
    // A manager that stops answering must not hang the job until its own timeout.
    timeoutMs: Math.max(1_000, plan.deadline - now())
  })
}

// The runner's and this action's own credentials and inputs: `env-passthrough:
// true` never lets them through. The action's inputs (INPUT_*, and the CLI's
// SWARM_DEPLOY_*) hold the SSH key and the registry password, STATE_* the
// post step's state, GITHUB_TOKEN and GH_TOKEN the job's token.
const NEVER_ALL = [/^INPUT_/i, /^STATE_/, /^SWARM_DEPLOY_/, /^ACTIONS_/, /^GITHUB_TOKEN$/, /^GH_TOKEN$/]
// ACTIONS_* are the runner's tokens and URLs for GitHub's services (the
// runtime token, the OIDC token request that mints cloud credentials, the
// cache's signed URLs): no compose file has a use for them, and whatever
// reaches a service spec is readable by anyone with Engine API access to a
// manager, so they are refused even when named.
const NEVER = /^ACTIONS_/

/**
 * What compose interpolation may read: runner variables let through by
 * env-passthrough, then the env input (and env-file), which win.
 */
export function interpolationValues(
  env: ReadonlyMap<string, string>,
  passthrough: 'all' | string[],
  runnerEnv: Record<string, string | undefined>
): Map<string, string> {
  const values = new Map<string, string>()
  const refused = passthrough === 'all' ? [] : passthrough.filter(name => NEVER.test(name))
  if (refused.length > 0) {
    throw new InputError(
      'env-passthrough',
      `${refused.join(', ')}: the runner's ACTIONS_* variables are its own tokens for GitHub's services and are never passed to a deploy`
    )
  }
  const names = passthrough === 'all' ? Object.keys(runnerEnv).filter(name => !NEVER_ALL.some(pattern => pattern.test(name))) : passthrough
  for (const name of names) {
    const value = runnerEnv[name]
    if (value !== undefined) values.set(name, value)
  }
  for (const [name, value] of env) values.set(name, value)
  return values
}

/** Every problem with the compose files' variable references, before anything is built or deployed. */
export function composeVariableProblems(files: Array<{ path: string; text: string }>, values: ReadonlyMap<string, string>): string[] {
  return checkVariables(
    files.flatMap(f => [...findVariables(f.text, f.path), ...findBareEnvironment(f.text, f.path)]),
    values
  )
}

/**
 * Every variable the compose files read: references, bare environment names
 * and the `environment:` sources of secrets and configs. Their values are
 * what reaches the stack, so they are secret whatever gave them.
 */
export function referencedNames(files: Array<{ path: string; text: string }>): Set<string> {
  const names = new Set<string>()
  for (const { path: file, text } of files) {
    for (const ref of [...findVariables(text, file), ...findBareEnvironment(text, file)]) if (ref.name !== '') names.add(ref.name)
    const parsed = parsedCompose(text).doc
    if (parsed.errors.length > 0) continue
    const doc = parsed.toJS() as Record<string, unknown> | null
    for (const section of ['secrets', 'configs']) {
      const entries = doc?.[section]
      if (entries === null || typeof entries !== 'object') continue
      for (const entry of Object.values(entries)) {
        const source = (entry as { environment?: unknown } | null)?.environment
        if (typeof source === 'string') names.add(source)
      }
    }
  }
  return names
}

// swarmkit's limit for service and network names (validateAnnotations).
const MAX_SWARM_NAME = 63

/**
 * Services and networks whose `<stack>_<name>` Swarm would refuse. The docker
 * CLI finds out only when it creates that one, after the networks and
 * services before it, so a deploy would stop half done.
 */
export function swarmNameProblems(files: Array<{ path: string; text: string }>, stack: string): string[] {
  const problems: string[] = []
  for (const { path: file, text } of files) {
    const parsed = parsedCompose(text).doc
    // Docker reports a file it cannot read in its own words.
    if (parsed.errors.length > 0) continue
    const doc = parsed.toJS() as { services?: unknown; networks?: unknown } | null
    const check = (kind: string, section: unknown, skip: (entry: unknown) => boolean): void => {
      if (section === null || typeof section !== 'object') return
      for (const [key, entry] of Object.entries(section)) {
        const name = `${stack}_${key}`
        if (name.length > MAX_SWARM_NAME && !skip(entry)) {
          problems.push(
            `compose-file: ${file}: ${kind} ${key} would be named ${name}, ${name.length} characters: Swarm allows ${MAX_SWARM_NAME}; use a shorter stack or ${kind} name`
          )
        }
      }
    }
    check('service', doc?.services, () => false)
    // External networks and those with their own name keep that name.
    check('network', doc?.networks, entry => entry !== null && typeof entry === 'object' && ('external' in entry || 'name' in entry))
  }
  return problems
}

/** The rewritten compose file goes beside the original, so relative paths in it still resolve. */
export function renderedPath(original: string, token: string): string {
  return path.join(path.dirname(original), `.swarm-deploy-${token}-${path.basename(original)}`)
}

/** Reads `file:` sources as the docker CLI does: relative to the first compose file's folder. */
export function sourceReader(composeFiles: string[], read: Host['files']['read']): (file: string) => Buffer | undefined {
  const base = path.dirname(composeFiles[0] ?? '.')
  return file => read(path.resolve(base, file))
}

/**
 * The subnets of the networks this deploy creates (see subnets.ts): per
 * file, the text with them in, or undefined. One API call when every network
 * exists already (every deploy but a stack's first, or one adding a network).
 */
async function newNetworkSubnets(
  api: Pick<SwarmApi, 'networks' | 'addressPool'>,
  stack: string,
  files: Array<{ path: string; text: string }>,
  info: (line: string) => void
): Promise<Array<string | undefined>> {
  const networks = await api.networks()
  const create = networksToCreate(files, stack, new Set(networks.map(n => n.name)))
  if (create.length === 0) return []
  const pool = await api.addressPool()
  const planned = planSubnets(files, create, pool, networks)
  for (const { name, subnet } of planned.assigned) info(`network ${name} → subnet ${subnet}, a free one of ${poolText(pool)}`)
  for (const name of planned.unassigned)
    info(`network ${name}: its subnet is left to Docker (no free subnet in ${poolText(pool)}, or an entry this deploy does not edit)`)
  return planned.texts
}

/**
 * The deploy step: create the secrets whose values come from env, write
 * compose copies that name every secret and config version, run
 * `docker stack deploy` on them, and remove the copies.
 */
export async function deployStack(
  cli: DockerCli,
  api: Pick<SwarmApi, 'ensureObject' | 'networks' | 'addressPool'>,
  plan: DeployPlan,
  compose: Array<{ path: string; text: string }>,
  socketPath: string,
  host: { files: Host['files']; leftovers: Host['leftovers']; now: () => number; info: (line: string) => void; hide?: (text: string) => void }
): Promise<void> {
  const only = plan.services ? keepServices(compose, plan.services) : compose
  const rendered = renderStackObjects(only, {
    stack: plan.stack,
    values: plan.variables,
    readSource: sourceReader(plan.composeFiles, host.files.read),
    secretKey: plan.secretKey
  })
  // docker stack deploy prints `Creating secret <name>` for file sources: those names are hidden too.
  for (const object of rendered.objects) if (object.kind === 'secret') host.hide?.(object.name)
  for (const object of rendered.objects) {
    const how = object.data ? await api.ensureObject(object.kind, object.name, object.data, plan.stack) : 'from file, by docker stack deploy'
    // A secret's versioned name is never logged: it is keyed, but it need not be shown to be used.
    host.info(object.kind === 'secret' ? `secret ${object.key} (${how})` : `${object.kind} ${object.key} → ${object.name} (${how})`)
  }
  const withSubnets = await newNetworkSubnets(
    api,
    plan.stack,
    rendered.files.map((f, i) => ({ path: f.path, text: f.text ?? only[i]!.text })),
    host.info
  )
  // The copies hold names, hashes and subnets, never values.
  const token = randomBytes(4).toString('hex')
  // A file cut down to a step's services is a copy too, even with no object to name.
  const cut = (i: number): string | undefined => rendered.files[i]!.text ?? (only[i] !== compose[i] ? only[i]!.text : undefined)
  const texts = rendered.files.map((f, i) => withSubnets[i] ?? cut(i))
  const copies = rendered.files.flatMap((f, i) => (texts[i] === undefined ? [] : [{ path: renderedPath(f.path, token), text: texts[i] }]))
  const files = rendered.files.map((f, i) => (texts[i] === undefined ? f.path : renderedPath(f.path, token)))
  if (plan.runLabel && compose[0]) {
    const run = { path: renderedPath(compose[0].path, `${token}-run`), text: runLabelFile(compose, plan.runLabel.services, plan.runLabel.id) }
    copies.push(run)
    files.push(run.path)
  }
  const kept = (plan.replicas ?? []).filter(k => !plan.services || plan.services.has(k.service))
  if (kept.length > 0 && compose[0]) {
    const replicas = { path: renderedPath(compose[0].path, `${token}-replicas`), text: replicasFile(compose, kept) }
    copies.push(replicas)
    files.push(replicas.path)
  }
  // Recorded before they exist, so a cancelled or killed run still removes them.
  const releases = copies.map(copy => host.leftovers.path(path.resolve(copy.path)))
  try {
    for (const copy of copies) await host.files.write(copy.path, copy.text)
    await stackDeploy(cli, { ...plan, composeFiles: files, variables: deployVariables(plan.variables, compose) }, socketPath, host.now)
  } finally {
    for (const [i, copy] of copies.entries()) {
      await host.files.remove(copy.path).catch(() => undefined)
      releases[i]!()
    }
  }
}

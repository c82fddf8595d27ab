// dry-run: what a deploy would do, with nothing built, pushed or changed.
// The compose files are rendered exactly as the deploy renders them (the
// same secret and config version names, keyed by the swarm's cluster ID),
// merged and interpolated by the docker CLI's own loader (`docker stack
// config`, which reads files only and talks to no engine), and compared with
// the live services read over the Engine API. Nothing is created: no secret,
// config, network, service or release record.
import * as path from 'node:path'
import { randomBytes } from 'node:crypto'
import * as YAML from 'yaml'
import { stackServices } from '../converge/spec.js'
import { renderedPath, sourceReader } from '../deploy/stack-deploy.js'
import { renderStackObjects } from '../deploy/stack-objects.js'
import { networksToCreate, planSubnets, poolText } from '../deploy/stack-networks.js'
import { CliTimeout } from '../docker-cli.js'
import type { ImageBuild } from '../inputs/inputs.js'
import type { CliResult, DockerCli, Host, NetworkSubnets, Reporter, SwarmApi } from '../ports.js'
import type { DeploySource } from '../release/rollback.js'
import { ignoredKeyWarnings } from './ignored-keys.js'
import { keptLine, keptReplicas } from '../deploy/keep-replicas.js'
import type { ServiceView } from './service-view.js'
import { composeView, liveView } from './service-view.js'
import type { StackPlan } from './stack-plan.js'
import { planCounts, planStack } from './stack-plan.js'

export interface PreviewRun {
  stack: string
  prune: boolean
  source: Pick<DeploySource, 'compose' | 'composeFiles' | 'variables'>
  /** The image input: what IMAGE would be. */
  image: ImageBuild | undefined
  /** Keys secret version names, as for the deploy. */
  secretKey: Buffer
  cli: DockerCli
  api: Pick<SwarmApi, 'snapshot' | 'networks' | 'addressPool'>
  host: Pick<Host, 'files' | 'leftovers'>
  reporter: Pick<Reporter, 'info' | 'warn' | 'output'>
  /** Registers a name that must not be printed (secret version names). */
  hide: (text: string) => void
  /** keep-replicas: existing services keep their live count, as the deploy would (src/deploy/keep-replicas.ts). */
  keepReplicas?: boolean
}

const CONFIG_TIMEOUT_MS = 30_000
const VERSION_TIMEOUT_MS = 10_000

/**
 * The first docker CLI release with `docker stack config` (docker/cli#3544,
 * in the 22.06 betas, first released in 23.0). An older one answers it with
 * the usage of `docker stack` (CLI 20.10: "unknown flag: --compose-file",
 * exit 125).
 */
export const STACK_CONFIG_SINCE = '23.0'
const FIRST_WITH_IT = { major: 22, minor: 6 }

/** The version in `docker --version` ("Docker version 20.10.24+dfsg1, build 297e128"), which asks no engine. */
export function clientVersionOf(text: string): string | undefined {
  return /^Docker version (\d+\.\d+[^\s,]*)/m.exec(text)?.[1]
}

/** Whether a CLI of this version has `docker stack config`; undefined when the version cannot be read. */
export function hasStackConfig(version: string): boolean | undefined {
  const match = /^(\d+)\.(\d+)/.exec(version)
  if (!match) return undefined
  const { major, minor } = FIRST_WITH_IT
  return Number(match[1]) > major || (Number(match[1]) === major && Number(match[2]) >= minor)
}

/**
 * Why `docker stack config` failed, for the error. From its stderr only:
 * its stdout is the interpolated compose text, values and all, so it is
 * never quoted, even when stderr is empty. A CLI too old to have the command
 * is said to be so, instead of quoting its usage text.
 */
export function stackConfigError(result: Pick<CliResult, 'code' | 'stderr'>, clientVersion: string | undefined): Error {
  if (clientVersion !== undefined && hasStackConfig(clientVersion) === false)
    return new Error(`dry-run needs docker CLI ≥ ${STACK_CONFIG_SINCE} on the runner (for docker stack config); this one is ${clientVersion}`)
  const detail = result.stderr.trim().split('\n').slice(-5).join('\n')
  return new Error(
    `docker stack config failed (docker exit code ${result.code}): ${detail || '(no error text; its output is not shown, as it holds the values)'}`
  )
}

/** The runner's docker CLI version, or undefined when `docker --version` does not give one. */
async function clientVersion(cli: DockerCli): Promise<string | undefined> {
  try {
    const result = await cli.run(['--version'], { silent: true, timeoutMs: VERSION_TIMEOUT_MS })
    return result.code === 0 ? clientVersionOf(result.stdout) : undefined
  } catch {
    return undefined
  }
}

/** IMAGE as the preview sets it: the first tag, which a deploy would build or resolve to a digest. */
export function previewImage(image: ImageBuild): string {
  return `${image.repository}:${image.tags[0]}`
}

/** The merged, interpolated compose document, from the docker CLI's loader; values only in its environment. */
async function stackConfig(run: PreviewRun, variables: ReadonlyMap<string, string>): Promise<Record<string, unknown>> {
  const rendered = renderStackObjects(run.source.compose, {
    stack: run.stack,
    values: variables,
    readSource: sourceReader(run.source.composeFiles, run.host.files.read),
    secretKey: run.secretKey
  })
  for (const object of rendered.objects) if (object.kind === 'secret') run.hide(object.name)
  // The copies hold names and hashes, never values, as the deploy's do.
  const token = randomBytes(4).toString('hex')
  const copies = rendered.files.filter(f => f.text !== undefined).map(f => ({ path: renderedPath(f.path, token), text: f.text! }))
  const files = rendered.files.map(f => (f.text === undefined ? f.path : renderedPath(f.path, token)))
  const releases = copies.map(copy => run.host.leftovers.path(path.resolve(copy.path)))
  try {
    for (const copy of copies) await run.host.files.write(copy.path, copy.text)
    const args = ['stack', 'config', ...files.flatMap(file => ['--compose-file', file])]
    // Silent: its output is the interpolated compose text, values and all.
    const result = await run.cli.run(args, { env: Object.fromEntries(variables), silent: true, timeoutMs: CONFIG_TIMEOUT_MS })
    if (result.timedOut) throw new CliTimeout(`docker stack config did not finish within ${CONFIG_TIMEOUT_MS / 1000} s and was stopped`)
    if (result.code !== 0) throw stackConfigError(result, await clientVersion(run.cli))
    const doc: unknown = YAML.parse(result.stdout)
    if (doc === null || typeof doc !== 'object') throw new Error('docker stack config printed no compose document')
    return doc as Record<string, unknown>
  } finally {
    for (const [i, copy] of copies.entries()) {
      await run.host.files.remove(copy.path).catch(() => undefined)
      releases[i]!()
    }
  }
}

/** The would-be views of a `docker stack config` document's services. */
export function composeViews(stack: string, doc: Record<string, unknown>, builtImage: string | undefined): ServiceView[] {
  const services = doc.services !== null && typeof doc.services === 'object' ? (doc.services as Record<string, Record<string, unknown>>) : {}
  return Object.entries(services).map(([name, service]) => composeView(name, service ?? {}, { stack, doc, ...(builtImage ? { builtImage } : {}) }))
}

export async function previewStack(run: PreviewRun): Promise<StackPlan> {
  const { stack, reporter } = run
  const builtImage = run.image?.build ? previewImage(run.image) : undefined
  const variables = run.image ? new Map([...run.source.variables, ['IMAGE', previewImage(run.image)]]) : run.source.variables
  const doc = await stackConfig(run, variables)
  const [snapshot, networks] = await Promise.all([run.api.snapshot(stack), run.api.networks()])
  const names = new Map(networks.map(n => [n.id, n.name]))
  const live = stackServices(snapshot, stack).map(s => liveView(stack, s.Spec as unknown as Record<string, unknown>, names))
  for (const kept of keptReplicas(run.source.compose, snapshot.services, stack, run.keepReplicas === true)) {
    reporter.info(keptLine(kept))
    const service = (doc.services as Record<string, { deploy?: Record<string, unknown> }> | undefined)?.[kept.service]
    if (service) service.deploy = { ...service.deploy, replicas: kept.live }
  }
  const plan = planStack(stack, composeViews(stack, doc, builtImage), live, { prune: run.prune, warnings: ignoredKeyWarnings(run.source.compose) })
  for (const warning of plan.warnings) reporter.warn(warning)
  for (const service of plan.services) {
    reporter.info(
      `${service.action.padEnd(9)} ${stack}_${service.name}${service.action === 'update' || service.action === 'create' ? ` (${service.image})` : ''}`
    )
    for (const change of service.changes) reporter.info(`            ${change}`)
  }
  await previewSubnets(run, networks)
  if (plan.kept.length > 0) reporter.info(`Not in the compose files, kept (prune is off): ${plan.kept.map(n => `${stack}_${n}`).join(', ')}`)
  reporter.info(`Plan for stack ${stack}: ${planCounts(plan)}. Dry run: nothing was built, pushed or changed.`)
  return plan
}

/** The networks a deploy would create, with the subnet it would give each now (subnets.ts: a deploy chooses again). */
async function previewSubnets(run: PreviewRun, networks: NetworkSubnets[]): Promise<void> {
  const create = networksToCreate(run.source.compose, run.stack, new Set(networks.map(n => n.name)))
  if (create.length === 0) return
  const pool = await run.api.addressPool()
  const planned = planSubnets(run.source.compose, create, pool, networks)
  for (const { name, subnet } of planned.assigned)
    run.reporter.info(`create    network ${name} (subnet ${subnet}, a free one of ${poolText(pool)}; the deploy chooses again)`)
  for (const name of planned.unassigned) run.reporter.info(`create    network ${name} (its subnet left to Docker)`)
}

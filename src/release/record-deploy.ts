// The release record of a round, written right after `docker stack deploy`:
// what the swarm runs then and how it got there, never a value from env.
import { stackServices } from '../converge/spec.js'
import { sourceReader } from '../deploy/stack-deploy.js'
import type { Plan } from '../plan.js'
import type { Host, Reporter, SwarmApi } from '../ports.js'
import type { Secrets } from '../secrets.js'
import type { Snapshot } from '../swarm/model.js'
import type { Release } from './record.js'
import { releaseName, releaseServices } from './record.js'
import type { DeploySource } from './rollback.js'
import { recordedCompose } from './rollback.js'
import type { ReleaseHistory } from './store.js'
import { createRelease } from './store.js'

/** What the swarm runs right after the deploy, and how it got there; never a value from env. */
export async function recordDeploy(
  api: SwarmApi,
  stack: string,
  source: DeploySource,
  secretKey: Buffer,
  host: Host,
  secrets: Secrets,
  known: ReleaseHistory,
  plan: Plan,
  reporter: Reporter,
  /** The stack as read right after the deploy, if it was. */
  after?: Snapshot
): Promise<Release> {
  // IMAGE is the image this run pushed, not a value from env.
  const variables = new Map([...source.variables].filter(([name]) => name !== 'IMAGE'))
  const services = releaseServices(stackServices(after ?? (await api.snapshot(stack)), stack), variables, secrets.list())
  const env = host.env
  const recorded = source.rollbackTo
    ? { compose: source.rollbackTo.compose, variables: source.rollbackTo.variables }
    : recordedCompose(source.compose, { stack, values: source.variables, readSource: sourceReader(source.composeFiles, host.files.read), secretKey })
  const runUrl =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : ''
  const release = await createRelease(
    api,
    {
      format: 1,
      stack,
      time: new Date(host.now()).toISOString(),
      sha: source.rollbackTo ? source.rollbackTo.sha : (env.GITHUB_SHA ?? ''),
      ref: source.rollbackTo ? source.rollbackTo.ref : (env.GITHUB_REF ?? ''),
      actor: env.GITHUB_ACTOR ?? env.USER ?? '',
      runUrl,
      rollbackTo: source.rollbackTo?.number,
      image: source.rollbackTo ? source.rollbackTo.image : source.variables.get('IMAGE'),
      services,
      compose: recorded.compose,
      variables: recorded.variables
    },
    known,
    plan.releaseKeys
  )
  reporter.info(`Recorded release #${release.number} as config ${releaseName(stack, release.number)}`)
  return release
}

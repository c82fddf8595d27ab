// Where a deploy's compose comes from: the checkout's files (with the image
// this run pushed), or a recorded release (`rollback:`), chosen from the
// stack's releases as the swarm holds them.
import { noteDeployLock } from '../lock/run.js'
import type { Outcome } from '../outcome.js'
import type { Plan } from '../plan.js'
import { passedSecretsOf } from '../plan.js'
import type { Host, Reporter, SwarmApi } from '../ports.js'
import { trustNotes } from '../release/proof.js'
import type { Release } from '../release/record.js'
import type { DeploySource } from '../release/rollback.js'
import { rollbackSource } from '../release/rollback.js'
import { chooseRelease } from '../release/select.js'
import type { ReleaseHistory } from '../release/store.js'
import { loadReleases } from '../release/store.js'
import type { Secrets } from '../secrets.js'
import { writeMerged } from './normalise.js'

/** The stack's releases this run trusts (a preview first says who holds the lock: the deploy it previews would wait for them). */
export async function readHistory(plan: Plan, api: SwarmApi, reporter: Reporter): Promise<ReleaseHistory> {
  const { inputs } = plan
  // A preview changes nothing, the lock included: it only says who holds it.
  if (inputs.dryRun) await noteDeployLock(api, inputs.stack, reporter)
  const history = await loadReleases(api, inputs.stack, plan.releaseKeys)
  for (const note of trustNotes(plan.releaseKeys, history.refused, inputs.dryRun === true)) reporter.warn(note)
  return history
}

/** A rollback reads the recorded files, not the checkout's: the values env-passthrough gives them are as secret as env. */
export function hidePassed(plan: Plan, target: Release, secrets: Secrets): void {
  for (const { name, value } of passedSecretsOf(target.compose, plan.values, plan.inputs.env, plan.inputs.dotenv)) secrets.add(value, `env-passthrough ${name}`)
}

export async function existingObjects(api: SwarmApi, stack: string): Promise<Set<string>> {
  return new Set((await api.listObjects(stack)).map(o => o.name))
}

export interface SourceDeps {
  api: SwarmApi
  host: Host
  reporter: Reporter
  secrets: Secrets
  outcome: Outcome
  /** The run's work dir, where a rollback's compose files are written. */
  workdir: string
}

export async function chooseSource(plan: Plan, known: ReleaseHistory, deps: SourceDeps): Promise<DeploySource> {
  const { inputs } = plan
  const { api, host, reporter, secrets, outcome } = deps
  const rollback = inputs.rollback
  if (!rollback) {
    const variables = outcome.image ? new Map([...plan.values, ['IMAGE', outcome.image.pinned]]) : plan.values
    const compose = await writeMerged(plan.compose, deps.workdir, host.files)
    return { compose, composeFiles: compose.map(file => file.path), variables, rollbackTo: undefined }
  }
  return reporter.phase('Choose the release', async () => {
    const target = chooseRelease(known.releases, rollback, inputs.stack, known.refused)
    hidePassed(plan, target, secrets)
    reporter.info(
      `${inputs.dryRun ? 'Previewing the rollback' : 'Rolling back'} to release #${target.number} (${target.status}, ${target.sha.slice(0, 7) || 'no commit'}, ${target.time})${inputs.dryRun ? ': nothing is deployed' : ''}`
    )
    return rollbackSource(target, plan.values, await existingObjects(api, inputs.stack), deps.workdir, host.files)
  })
}

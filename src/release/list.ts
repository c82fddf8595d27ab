// `swarm-deploy releases`: read the stack's release records from the swarm,
// through the same tunnel a deploy opens. Changes nothing.
import type { Adapters, Host, Reporter } from '../ports.js'
import type { SshTarget, LocalTarget } from '../inputs/inputs.js'
import { withSwarmApi } from '../swarm/session.js'
import type { Release } from './record.js'
import { loadReleases } from './store.js'

export async function listReleases(target: SshTarget | LocalTarget, stack: string, host: Host, adapters: Adapters, reporter: Reporter): Promise<Release[]> {
  return withSwarmApi(target, host, adapters, reporter, api => loadReleases(api, stack))
}

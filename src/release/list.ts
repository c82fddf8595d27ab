// `swarm-deploy releases`: read the stack's release records from the swarm,
// through the same tunnel a deploy opens. Changes nothing.
import type { Adapters, Host, LocalTarget, Reporter, SshTarget } from '../ports.js'
import { withSession } from '../session.js'
import type { ReleaseKeys } from './proof.js'
import type { ReleaseHistory } from './store.js'
import { loadReleases } from './store.js'

/** The records this run trusts, and those it refused (listed as such, never hidden). */
export async function listReleases(
  target: SshTarget | LocalTarget,
  stack: string,
  keys: ReleaseKeys,
  host: Host,
  adapters: Adapters,
  reporter: Reporter
): Promise<ReleaseHistory> {
  return withSession(target, { host, adapters, reporter }, { quiet: true }, ({ api }) => loadReleases(api, stack, keys))
}

// `swarm-deploy releases`: read the stack's release records from the swarm,
// through the same tunnel a deploy opens. Changes nothing.
import type { Adapters, Host, Reporter } from '../ports.js'
import type { SshTarget, LocalTarget } from '../inputs/inputs.js'
import { createWorkdir } from '../workdir.js'
import type { Release } from './record.js'
import { loadReleases } from './store.js'

export async function listReleases(target: SshTarget | LocalTarget, stack: string, host: Host, adapters: Adapters, reporter: Reporter): Promise<Release[]> {
  const workdir = await createWorkdir(host.tempDir, host.env, host.leftovers)
  try {
    const tunnel = await adapters.openTunnel(target, workdir.dockerSocket, reporter, host)
    const api = adapters.swarmApi(tunnel.socketPath)
    try {
      return await loadReleases(api, stack)
    } finally {
      api.close()
      await tunnel.close()
    }
  } finally {
    await workdir.remove()
  }
}

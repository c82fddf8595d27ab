// A short session with the swarm for the CLI's sub-commands (releases,
// unlock): the same tunnel a deploy opens, the Engine API through it, and
// everything closed and removed afterwards.
import type { Adapters, Host, LocalTarget, Reporter, SshTarget, SwarmApi } from '../ports.js'
import { createWorkdir } from '../workdir.js'

export async function withSwarmApi<T>(
  target: SshTarget | LocalTarget,
  host: Host,
  adapters: Adapters,
  reporter: Reporter,
  fn: (api: SwarmApi) => Promise<T>
): Promise<T> {
  const workdir = await createWorkdir(host.tempDir, host.env, host.leftovers)
  try {
    const tunnel = await adapters.openTunnel(target, workdir.dockerSocket, reporter, host)
    const api = adapters.swarmApi(tunnel.socketPath)
    try {
      return await fn(api)
    } finally {
      api.close()
      await tunnel.close()
    }
  } finally {
    await workdir.remove()
  }
}

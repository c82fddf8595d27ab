// A private scratch folder for one run: the throwaway Docker config (so no
// registry credentials stay in ~/.docker on self-hosted runners) and the
// local end of the Docker socket forward. Removed when the run ends, and
// recorded as a leftover until then (a cancelled or killed run removes it
// too: src/leftovers.ts).
import { readFileSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Leftovers } from './ports.js'
import type { CredentialStores } from './registry/credentials/credential-helper.js'
import { credentialStoresOf } from './registry/credentials/credential-helper.js'

export interface Workdir {
  root: string
  dockerConfig: string
  dockerSocket: string
  /** The credential helpers the user's own config names: the run asks them itself (src/registry/credentials/credential-helper.ts). */
  credentialStores: CredentialStores
  remove(): Promise<void>
}

/**
 * @param parent where to create it (RUNNER_TEMP on a runner)
 * @param env the process environment: DOCKER_CONFIG and HOME locate the user's own config
 */
export async function createWorkdir(parent: string, env: Readonly<Record<string, string | undefined>>, leftovers: Leftovers): Promise<Workdir> {
  await fs.mkdir(parent, { recursive: true })
  // Short prefix: the socket path must stay under the 107-byte limit.
  const root = path.resolve(await fs.mkdtemp(path.join(parent, 'sd-')))
  // Recorded before anything secret is in it.
  const release = leftovers.path(root)
  await fs.chmod(root, 0o700)
  const dockerConfig = path.join(root, 'docker')
  await fs.mkdir(dockerConfig, { mode: 0o700 })
  const user = userConfig(env)
  await fs.writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify(seedConfig(user, env), null, 2), { mode: 0o600 })
  return {
    root,
    dockerConfig,
    credentialStores: credentialStoresOf(user),
    dockerSocket: path.join(root, 'docker.sock'),
    remove: async () => {
      await fs.rm(root, { recursive: true, force: true })
      release()
    }
  }
}

/** The user's own Docker config folder (DOCKER_CONFIG, or ~/.docker): where docker looks for their CLI plugins. */
export function userConfigDir(env: Readonly<Record<string, string | undefined>>): string {
  return env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker')
}

function userConfig(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readFileSync(path.join(userConfigDir(env), 'config.json'), 'utf8')) as unknown
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

/**
 * Keep what the user's own Docker config provides (logins made by earlier
 * steps, credential helpers of other registries, CLI plugins such as buildx)
 * without writing to it.
 */
function seedConfig(user: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const home = userConfigDir(env)
  const config = { ...user }
  // A credential store would keep our login after the run: logins go to this file only.
  delete config.credsStore
  const extra = Array.isArray(config.cliPluginsExtraDirs) ? (config.cliPluginsExtraDirs as string[]) : []
  return { ...config, cliPluginsExtraDirs: [...extra, path.join(home, 'cli-plugins')] }
}

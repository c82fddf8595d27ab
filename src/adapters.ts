// The real seams: the docker CLI, the SSH tunnel, the Engine API, the AWS SDK,
// and this process's host. Front ends pass these to the engine; tests pass fakes.
import { readFileSync, statSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import * as os from 'node:os'
import { openTunnel } from './connect/tunnel.js'
import { ExecDockerCli } from './docker-cli.js'
import { octokitDeployments } from './github/octokit.js'
import type { Adapters, Host, Leftovers } from './ports.js'
import { ecrToken } from './registry/credentials/ecr.js'
import { engineApi } from './swarm/api.js'
import { httpGet } from './smoke/http.js'

export const realAdapters: Adapters = {
  dockerCli: (configDir, host, reporter) => new ExecDockerCli(configDir, host, reporter),
  openTunnel: (target, socketPath, reporter, host) => openTunnel(target, socketPath, reporter, { env: host.env, leftovers: host.leftovers }),
  swarmApi: engineApi,
  ecrToken,
  github: octokitDeployments,
  smokeGet: httpGet
}

/** This process as the engine's host. */
export function processHost(env: NodeJS.ProcessEnv, tempDir: string | undefined, leftovers: Leftovers): Host {
  return {
    env,
    leftovers,
    tempDir: tempDir && tempDir !== '' ? tempDir : os.tmpdir(),
    files: {
      read: path => {
        try {
          return statSync(path).isFile() ? readFileSync(path) : undefined
        } catch {
          return undefined
        }
      },
      write: (path, text) => writeFile(path, text, { mode: 0o600 }),
      remove: path => rm(path, { force: true })
    },
    now: () => Date.now(),
    sleep: ms => new Promise(resolve => setTimeout(resolve, ms)),
    maxRssBytes: () => process.resourceUsage().maxRSS * 1024,
    hostname: os.hostname()
  }
}

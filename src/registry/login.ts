// Registry login into the throwaway Docker config: the password goes through
// stdin, never argv. ECR without explicit credentials gets a token from the
// AWS SDK, using whatever credentials the job configured (OIDC, keys, role).
import { readFile, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import type { DockerCli } from '../docker-cli.js'
import { runOrThrow } from '../docker-cli.js'
import type { Inputs, RegistryAuth } from '../inputs/inputs.js'
import { parseEcrRegistry } from '../inputs/parse.js'

export type EcrTokenSource = (region: string) => Promise<{ username: string; password: string }>

export async function ecrToken(region: string): Promise<{ username: string; password: string }> {
  const { ECRClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr')
  const client = new ECRClient({ region })
  const response = await client.send(new GetAuthorizationTokenCommand({}))
  const token = response.authorizationData?.[0]?.authorizationToken
  if (!token) throw new Error(`ECR returned no authorization token for region ${region}`)
  const [username, password] = Buffer.from(token, 'base64').toString('utf8').split(':', 2)
  if (!username || !password) throw new Error('ECR returned a malformed authorization token')
  return { username, password }
}

/** The credentials to log in with, or undefined when no login is needed. The caller registers the password as a secret. */
export async function resolveAuth(registry: Inputs['registry'], ecr: EcrTokenSource): Promise<RegistryAuth | undefined> {
  if (registry === undefined) return undefined
  if (registry.username !== undefined) return registry
  const aws = parseEcrRegistry(registry.registry)
  if (aws === undefined) return undefined
  const token = await ecr(aws.region)
  return { registry: registry.registry, ...token }
}

/** Docker Hub's login server is the CLI default; naming it differs in the config key. */
export function loginArgs(auth: RegistryAuth): string[] {
  const server = auth.registry === 'docker.io' ? [] : [auth.registry]
  return ['login', '--username', auth.username, '--password-stdin', ...server]
}

export async function login(cli: DockerCli, configDir: string, auth: RegistryAuth): Promise<void> {
  await dropCredentialHelper(configDir, auth.registry)
  await runOrThrow(cli, `docker login to ${auth.registry}`, loginArgs(auth), { stdin: auth.password })
}

// A credential helper for this registry would store the password outside
// the throwaway config; the file is the only place it may go.
async function dropCredentialHelper(configDir: string, registry: string): Promise<void> {
  const file = path.join(configDir, 'config.json')
  const config = JSON.parse(await readFile(file, 'utf8')) as { credHelpers?: Record<string, string> }
  if (config.credHelpers && registry in config.credHelpers) {
    delete config.credHelpers[registry]
    await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 })
  }
}

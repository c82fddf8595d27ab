// Registry login into the throwaway Docker config: the password goes through
// stdin, never argv. The credentials come from the first source that has the
// registry's (src/registry/credentials/): the inputs, a token a source gets
// by itself, or a credential helper of the user's Docker config.
import { readFile, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { runOrThrow } from '../docker-cli.js'
import type { Inputs, RegistryAuth } from '../inputs/inputs.js'
import type { DockerCli, EcrTokenSource, RegistryLogin } from '../ports.js'
import type { StoredLogin } from './credentials/credential-helper.js'
import { configKey, credentialHelperSource } from './credentials/credential-helper.js'
import { ecrSource } from './credentials/ecr.js'
import { loginFrom } from './credentials/sources.js'
import { staticSource } from './credentials/static.js'

const LOGIN_TIMEOUT_MS = 60_000

/**
 * The credentials to log in with (for a token, when it expires), or
 * undefined when no login is needed: the inputs, else a token of the source
 * that needs nothing given (credentials/ecr.ts), else a login a credential
 * helper keeps. The caller registers the password as a secret.
 */
export async function resolveAuth(registry: Inputs['registry'], ecr: EcrTokenSource, stored?: StoredLogin): Promise<RegistryLogin | undefined> {
  if (registry === undefined) return undefined
  const sources = [staticSource(registry), ecrSource(ecr), ...(stored ? [credentialHelperSource(stored)] : [])]
  return loginFrom(sources, registry.registry)
}

/** Docker Hub's login server is the CLI default; naming it differs in the config key. */
export function loginArgs(auth: RegistryAuth): string[] {
  const server = auth.registry === 'docker.io' ? [] : [auth.registry]
  return ['login', '--username', auth.username, '--password-stdin', ...server]
}

export async function login(cli: DockerCli, configDir: string, auth: RegistryAuth): Promise<void> {
  await dropCredentialHelper(configDir, auth.registry)
  // A registry that accepts the connection and never answers must not hold the job.
  await runOrThrow(cli, `docker login to ${auth.registry}`, loginArgs(auth), { stdin: auth.password, timeoutMs: LOGIN_TIMEOUT_MS })
}

// A credential helper for this registry would store the password outside
// the throwaway config; the file is the only place it may go.
async function dropCredentialHelper(configDir: string, registry: string): Promise<void> {
  const file = path.join(configDir, 'config.json')
  const config = JSON.parse(await readFile(file, 'utf8')) as { credHelpers?: Record<string, string> }
  const key = configKey(registry)
  if (config.credHelpers && Object.hasOwn(config.credHelpers, key)) {
    delete config.credHelpers[key]
    await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 })
  }
}

// Registry login into the throwaway Docker config: the password goes through
// stdin, never argv. ECR without explicit credentials gets a token from the
// AWS SDK, using whatever credentials the job configured (OIDC, keys, role);
// another registry without them, the login a credential helper of the user's
// Docker config keeps (src/registry/credential-helper.ts).
import { readFile, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import type { DockerCli, EcrToken, EcrTokenSource } from '../ports.js'
import { runOrThrow } from '../docker-cli.js'
import type { Inputs, RegistryAuth } from '../inputs/inputs.js'
import { parseEcrRegistry } from '../inputs/parse.js'
import { configKey } from './credential-helper.js'
import type { Credentials } from './manifest.js'

/** The credentials a run logs in with; for ECR, when its token expires. */
export type LoginAuth = RegistryAuth & { expiresAt?: Date }

/** A login kept outside the inputs for a registry (a credential helper's), or undefined. */
export type StoredLogin = (registry: string) => Promise<Credentials | undefined>

const ECR_TIMEOUT_MS = 30_000
const LOGIN_TIMEOUT_MS = 60_000

export interface EcrOptions {
  /** Another endpoint than AWS's (tests, VPC endpoints). */
  endpoint?: string
  /** Bounds the whole call: credentials, retries and the request. */
  timeoutMs?: number
}

export async function ecrToken(region: string, options: EcrOptions = {}): Promise<EcrToken> {
  const { ECRClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr')
  const timeoutMs = options.timeoutMs ?? ECR_TIMEOUT_MS
  const client = new ECRClient({ region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) })
  const signal = AbortSignal.timeout(timeoutMs)
  // The signal cancels the request; the race also bounds what it may not reach (credential lookups).
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new Error(`ECR GetAuthorizationToken (region ${region}) did not answer within ${timeoutMs / 1000} s`))
    signal.addEventListener('abort', onAbort, { once: true })
  })
  let response
  try {
    response = await Promise.race([client.send(new GetAuthorizationTokenCommand({}), { abortSignal: signal }), aborted])
  } catch (error) {
    if (signal.aborted) await aborted
    throw error
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort)
    aborted.catch(() => undefined)
    client.destroy()
  }
  const data = response.authorizationData?.[0]
  const token = data?.authorizationToken
  if (!token) throw new Error(`ECR returned no authorization token for region ${region}`)
  const [username, password] = Buffer.from(token, 'base64').toString('utf8').split(':', 2)
  if (!username || !password) throw new Error('ECR returned a malformed authorization token')
  const expiresAt = data.expiresAt instanceof Date && !Number.isNaN(data.expiresAt.getTime()) ? data.expiresAt : undefined
  return { username, password, ...(expiresAt ? { expiresAt } : {}) }
}

/**
 * The credentials to log in with, or undefined when no login is needed: the
 * inputs, else an ECR token, else a login a credential helper keeps. The
 * caller registers the password as a secret.
 */
export async function resolveAuth(registry: Inputs['registry'], ecr: EcrTokenSource, stored?: StoredLogin): Promise<LoginAuth | undefined> {
  if (registry === undefined) return undefined
  if (registry.username !== undefined) return registry
  const aws = parseEcrRegistry(registry.registry)
  if (aws !== undefined) return { registry: registry.registry, ...(await ecr(aws.region)) }
  const kept = await stored?.(registry.registry)
  return kept && { registry: registry.registry, ...kept }
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

// Logins a Docker credential helper keeps (`credsStore` or `credHelpers` in
// the user's config.json: ecr-login, pass, desktop, osxkeychain, gcloud…).
// The throwaway config never names a helper for the run's registry (a login
// there would land in the user's store), so the run asks the helper itself,
// with the protocol of docker/docker-credential-helpers' client: `get` with
// the server URL on stdin, `{"ServerURL","Username","Secret"}` on stdout, or
// exit 1 with "credentials not found in native keychain". The answer becomes
// the run's login (docker login into the throwaway config, the digest
// lookup, `--with-registry-auth`): only the helper's child ever sees AWS_*.
import { spawn } from 'node:child_process'
import { credentialHelperEnvironment } from '../../docker-cli.js'
import type { Credentials, CredentialSource, HelperAnswer, HelperRun, Host, Reporter } from '../../ports.js'

/** What the user's Docker config says about credential helpers. */
export interface CredentialStores {
  credsStore?: string
  credHelpers: Record<string, string>
}

/** The helper settings of a parsed config.json, whatever else it holds. */
export function credentialStoresOf(config: Record<string, unknown>): CredentialStores {
  const credHelpers: Record<string, string> = {}
  if (config.credHelpers !== null && typeof config.credHelpers === 'object') {
    for (const [key, value] of Object.entries(config.credHelpers as Record<string, unknown>)) if (typeof value === 'string') credHelpers[key] = value
  }
  return typeof config.credsStore === 'string' && config.credsStore !== '' ? { credsStore: config.credsStore, credHelpers } : { credHelpers }
}

/** The key the docker CLI stores and looks up a registry's login under: Docker Hub's is its v1 index URL. */
export function configKey(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry
}

export interface HelperChoice {
  /** The name after `docker-credential-`. */
  helper: string
  /** What names it in the config, for messages. */
  setting: 'credHelpers' | 'credsStore'
  /** What the helper is asked for. */
  serverUrl: string
}

/**
 * The docker CLI's rule (configfile.getConfiguredCredentialStore): the
 * registry's `credHelpers` entry, else `credsStore`; an entry of "" means
 * the config file itself, even with a `credsStore`.
 */
export function helperFor(stores: CredentialStores, registry: string): HelperChoice | undefined {
  const key = configKey(registry)
  if (Object.hasOwn(stores.credHelpers, key)) {
    const helper = stores.credHelpers[key]!
    return helper === '' ? undefined : { helper, setting: 'credHelpers', serverUrl: key }
  }
  return stores.credsStore ? { helper: stores.credsStore, setting: 'credsStore', serverUrl: key } : undefined
}

/** The helper's program is not on the runner's PATH. */
export class HelperMissing extends Error {}

/** The helper could not give a usable login; nothing was built or deployed. */
export class CredentialHelperError extends Error {}

const NOT_FOUND = 'credentials not found in native keychain'
// docker's marker for an identity (refresh) token in place of a user name.
const TOKEN_USERNAME = '<token>'

function named(choice: HelperChoice, registry: string): string {
  return `the credential helper docker-credential-${choice.helper} (${choice.setting} for ${registry} in the runner's Docker config)`
}

/** The login the helper's answer gives, undefined when it keeps none for the registry; throws when it cannot be used. */
export function helperCredentials(choice: HelperChoice, registry: string, answer: HelperAnswer): Credentials | undefined {
  if (answer.code !== 0) {
    const said = (answer.stdout.trim() || answer.stderr.trim()).split('\n').slice(-3).join(' ')
    if (said === NOT_FOUND) return undefined
    throw new CredentialHelperError(
      `${named(choice, registry)} failed (exit code ${answer.code}${said ? `: ${said}` : ''}). Fix it, or give registry-username and registry-password. Nothing was built or deployed.`
    )
  }
  let parsed: { Username?: unknown; Secret?: unknown }
  try {
    parsed = JSON.parse(answer.stdout) as typeof parsed
  } catch {
    throw new CredentialHelperError(`${named(choice, registry)} answered something that is not its JSON. Nothing was built or deployed.`)
  }
  const username = typeof parsed.Username === 'string' ? parsed.Username : ''
  const password = typeof parsed.Secret === 'string' ? parsed.Secret : ''
  if (username === TOKEN_USERNAME) {
    // An identity token is exchanged for access tokens through OAuth2 flows this action does not speak.
    throw new CredentialHelperError(
      `${named(choice, registry)} gave an identity token, not a user and password, which this action cannot use: give registry-username and registry-password (e.g. an access token). Nothing was built or deployed.`
    )
  }
  if (username === '' || password === '') {
    throw new CredentialHelperError(`${named(choice, registry)} gave no user or no secret. Nothing was built or deployed.`)
  }
  return { username, password }
}

export interface HelperLoginOptions {
  stores: CredentialStores
  env: Host['env']
  run: HelperRun
  log: Pick<Reporter, 'info' | 'warn'>
  /** Registers the helper's secret, before anything else prints. */
  hide: (secret: string) => void
}

/**
 * The login the user's credential helper keeps for `registry`: undefined
 * when no helper is set for it, or (with a warning) when the helper keeps
 * none. A helper that is missing or fails stops the run: going on without
 * its login would deploy what the nodes cannot pull.
 */
export async function helperLogin(registry: string, options: HelperLoginOptions): Promise<Credentials | undefined> {
  const choice = helperFor(options.stores, registry)
  if (choice === undefined) return undefined
  let answer: HelperAnswer
  try {
    answer = await options.run(choice.helper, choice.serverUrl, credentialHelperEnvironment(options.env))
  } catch (error) {
    const why = error instanceof HelperMissing ? "is not on the runner's PATH" : `could not be run: ${(error as Error).message}`
    throw new CredentialHelperError(
      `${named(choice, registry)} ${why}. Install it, remove it from the config, or give registry-username and registry-password. Nothing was built or deployed.`
    )
  }
  const credentials = helperCredentials(choice, registry, answer)
  if (credentials !== undefined) options.hide(credentials.password)
  if (credentials === undefined) {
    options.log.warn(
      `${named(choice, registry)} has no login for it: going on without one (a private image cannot be pushed or pulled; give registry-username and registry-password)`
    )
    return undefined
  }
  options.log.info(`Logging in to ${registry} as ${credentials.username} with the login ${named(choice, registry)} keeps`)
  return credentials
}

/** A login kept outside the inputs for a registry (a credential helper's), or undefined. */
export type StoredLogin = (registry: string) => Promise<Credentials | undefined>

/**
 * The logins credential helpers keep, as the run asks for them (`helperLogin`
 * with the run's stores): last in line, it says none when no helper is set
 * for the registry.
 */
export function credentialHelperSource(stored: StoredLogin): CredentialSource {
  return {
    kind: 'credential-helper',
    matches: () => true,
    login: async registry => {
      const kept = await stored(registry)
      return kept && { registry, ...kept }
    }
  }
}

const HELPER_TIMEOUT_MS = 30_000
// A name, never a path: the config may only pick a docker-credential-* program on PATH.
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** The real helper run: its own process group, bounded, killed with it on a timeout. */
export const runCredentialHelper: HelperRun = (helper, serverUrl, env) => {
  if (!HELPER_NAME.test(helper)) return Promise.reject(new Error(`'${helper}' is not a helper name`))
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.stdin.on('error', () => undefined)
    child.stdin.end(serverUrl)
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
      reject(new Error(`it did not answer within ${HELPER_TIMEOUT_MS / 1000} s`))
    }, HELPER_TIMEOUT_MS)
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(error.code === 'ENOENT' ? new HelperMissing(`docker-credential-${helper} is not on PATH`) : error)
    })
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') })
    })
  })
}

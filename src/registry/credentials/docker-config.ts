// Logins already in the runner's Docker config (`auths`, from an earlier
// `docker login` or docker/login-action step): docker uses them as they are,
// so the run logs in with nothing, and reads them only to ask the registry
// itself for a tag's digest (`build: false`).
import { readFile } from 'node:fs/promises'
import * as path from 'node:path'
import type { Credentials, CredentialSource } from '../../ports.js'

/**
 * Credentials for a registry from a Docker config.json's `auths`, whose keys
 * come in every spelling the CLI ever wrote (`https://index.docker.io/v1/`,
 * `ghcr.io`, `https://registry:5000`).
 */
export function credentialsFromConfig(configJson: string, registry: string): Credentials | undefined {
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }> }
  try {
    config = JSON.parse(configJson) as typeof config
  } catch {
    return undefined
  }
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (authKeyRegistry(key) !== registry) continue
    if (entry.username && entry.password) return { username: entry.username, password: entry.password }
    if (!entry.auth) continue
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
  }
  return undefined
}

function authKeyRegistry(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '')
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host) ? 'docker.io' : host
}

/** The run's Docker config (seeded from the runner's): a registry's login, if it has one. */
export function dockerConfigSource(configDir: string): CredentialSource {
  return {
    kind: 'docker-config',
    matches: () => true,
    login: async registry => {
      const text = await readFile(path.join(configDir, 'config.json'), 'utf8').catch(() => '{}')
      const found = credentialsFromConfig(text, registry)
      return found && { registry, ...found }
    }
  }
}

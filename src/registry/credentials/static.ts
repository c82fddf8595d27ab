// registry-username and registry-password, as given: the login of the
// registry they are for. Nothing to fetch and no known end.
import type { CredentialSource } from '../../ports.js'

/** The given registry and, when they were given, its user and password. */
export interface GivenLogin {
  registry: string
  username?: string | undefined
  password?: string | undefined
}

export function staticSource(given: GivenLogin | undefined): CredentialSource {
  return {
    kind: 'static',
    matches: registry => given?.registry === registry && given.username !== undefined && given.password !== undefined,
    login: async registry => ({ registry, username: given!.username!, password: given!.password! })
  }
}

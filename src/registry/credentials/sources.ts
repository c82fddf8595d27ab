// Which source gives a registry's login: the first in line whose `matches`
// is true. The order is the rule: what the inputs give wins, then a source
// that needs nothing given, then what the runner keeps.
import type { CredentialSource, RegistryLogin } from '../../ports.js'
import { ECR_ONLY, isEcrRegistry } from './ecr.js'

/** The login of the first source that matches `registry`; undefined when none does or it has none. */
export async function loginFrom(sources: readonly CredentialSource[], registry: string): Promise<RegistryLogin | undefined> {
  return sources.find(source => source.matches(registry))?.login(registry)
}

/** Whether a source logs in to `registry` with nothing given: a refresh then needs no registry-username. */
export function selfServed(registry: string): boolean {
  return isEcrRegistry(registry)
}

/** Why another registry needs registry-username and registry-password. */
export const SELF_SERVED_ONLY = ECR_ONLY

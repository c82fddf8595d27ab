// How long the registry credential stored in the services (for the nodes
// that pull later) keeps working, as the log and the summaries say it: a
// token with a known end, in the words of its source, and GitHub tokens given
// as a password that die with the job. Pure.
import type { ExpiryNote } from '../ports.js'
import { ECR_EXPIRY } from './credentials/ecr.js'

/**
 * The words for a stored credential's end where only its time is kept (the
 * outcome, the summaries): one source alone (credentials/ecr.ts) reports when
 * its credentials end. A second such source would put its kind in the outcome.
 */
export const STORED_EXPIRY: ExpiryNote = ECR_EXPIRY

/** The deploy's log line: when the credential now stored in the services stops working, and what keeps it fresh. */
export function tokenExpiry(registry: string, expiresAt: Date, now: number): string {
  return STORED_EXPIRY.stored(registry, expiresAt, now)
}

// A GitHub registry login whose password is a GitHub App installation token
// (`ghs_…`): the job's GITHUB_TOKEN, which GitHub's docs say expires when
// the job finishes (or after 24 hours at most), or another app's, which
// expires within an hour. Swarm keeps it in each service's spec like any
// registry credential, and a node that pulls after that fails with "No such image".
const GITHUB_REGISTRIES = ['ghcr.io', 'docker.pkg.github.com']

export type ShortLived = 'job-token' | 'installation-token'

/** Whether the credential a login stores dies with the job (or within the hour); undefined when nothing says so. */
export function shortLivedToken(auth: { registry: string; password: string }, env: Readonly<Record<string, string | undefined>>): ShortLived | undefined {
  if (!isGithubRegistry(auth.registry, env)) return undefined
  if (env.GITHUB_TOKEN && auth.password === env.GITHUB_TOKEN) return 'job-token'
  return auth.password.startsWith('ghs_') ? 'installation-token' : undefined
}

function isGithubRegistry(registry: string, env: Readonly<Record<string, string | undefined>>): boolean {
  if (GITHUB_REGISTRIES.includes(registry)) return true
  // GitHub Enterprise Server's Container registry is containers.<its host>.
  try {
    const server = new URL(env.GITHUB_SERVER_URL ?? '').host
    return server !== '' && server !== 'github.com' && registry === `containers.${server}`
  } catch {
    return false
  }
}

const LIFETIME: Record<ShortLived, string> = {
  'job-token': "the job's GITHUB_TOKEN, which expires when the job ends (or after 24 hours at most)",
  'installation-token': "a GitHub App installation token (ghs_…): the job's GITHUB_TOKEN expires when the job ends, any other within an hour"
}

/** What to use instead: the Container registry takes personal access tokens (classic), not fine-grained ones. */
export const LONG_LIVED_HINT =
  'give registry-password a token that outlives the job: a personal access token (classic) with the read:packages scope (write:packages to push), stored as a repository or environment secret'

/** One warning: the credential the services keep dies soon, what breaks then, and what to use instead. */
export function shortLivedWarning(registry: string, kind: ShortLived): string {
  return `registry-password for ${registry} is ${LIFETIME[kind]}. --with-registry-auth stores it in each service, so after that a node that must pull again (a task rescheduled after a node failure, a new node) fails with "No such image: <image>@sha256:…". To keep them pulling, ${LONG_LIVED_HINT}; a scheduled refresh (refresh-registry-auth) with such a token replaces what this run stored.`
}

/** The refresh's line: the credential it just stored is short-lived too. */
export function shortLivedRefresh(registry: string, kind: ShortLived): string {
  return `The credential now stored for ${registry} is ${LIFETIME[kind]}: refreshing with it keeps the services pulling only until then; ${LONG_LIVED_HINT}`
}

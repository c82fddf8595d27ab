// An ECR token works for 12 hours, and the copy Swarm keeps in each service's
// spec with it: after that a node that must pull again (a task rescheduled
// after a node failure, a new node) fails with "no basic auth credentials"
// (moby#31063). What the log and the summary say about it. Pure.

/** The scheduled refresh the README and the examples describe. */
export const REFRESH_HINT =
  'run the action with refresh-registry-auth: true (or swarm-deploy refresh-auth) on a schedule shorter than that, e.g. every 6 hours: examples/workflows/refresh-registry-auth.yml'

export function hoursFrom(now: number, at: Date): string {
  const hours = (at.getTime() - now) / 3_600_000
  return hours >= 1 ? `in ${hours.toFixed(1)} h` : `in ${Math.max(0, Math.round(hours * 60))} min`
}

/** One log line: when the credential now stored in the services stops working, and what keeps it fresh. */
export function tokenExpiry(registry: string, expiresAt: Date, now: number): string {
  return `The ECR token for ${registry} stored in the services expires at ${expiresAt.toISOString()} (${hoursFrom(now, expiresAt)}); after that a node that must pull again (a rescheduled task, a new node) fails with "no basic auth credentials": ${REFRESH_HINT}`
}

// A GitHub registry login whose password is a GitHub App installation token
// (`ghs_…`): the job's GITHUB_TOKEN, which GitHub's docs say expires when
// the job finishes (or after 24 hours at most), or another app's, which
// expires within an hour. Swarm keeps it in each service's spec like an ECR
// token, and a node that pulls after that fails with "No such image".
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

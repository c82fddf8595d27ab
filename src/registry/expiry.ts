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

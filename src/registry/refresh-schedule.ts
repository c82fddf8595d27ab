// The scheduled refresh of the credential stored in the services
// (refresh-registry-auth), which every note on a credential's end points to.

/** The scheduled refresh docs/refresh.md and the examples describe. */
export const REFRESH_HINT =
  'run the action with refresh-registry-auth: true (or swarm-deploy refresh-auth) on a schedule shorter than that, e.g. every 6 hours: examples/workflows/refresh-registry-auth.yml'

export function hoursFrom(now: number, at: Date): string {
  const hours = (at.getTime() - now) / 3_600_000
  return hours >= 1 ? `in ${hours.toFixed(1)} h` : `in ${Math.max(0, Math.round(hours * 60))} min`
}

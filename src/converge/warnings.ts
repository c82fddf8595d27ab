// Compose settings that make Swarm's own verdict unreliable, found before
// the wait: better a warning now than a "completed" that was not healthy.
import { isJob, modeOf, monitorMs } from './spec.js'
import type { ContainerSpec, Healthcheck, Service } from '../swarm/model.js'

// Compared in ms; the API gives healthcheck durations in ns.
const NS_PER_MS = 1e6
const seconds = (ms: number): string => `${Math.round(ms / 100) / 10}s`

// Docker's defaults when the spec leaves a field out.
const DEFAULT_INTERVAL_MS = 30_000
const DEFAULT_RETRIES = 3

function effectiveHealthcheck(spec: ContainerSpec | undefined, images: Map<string, Healthcheck>): Healthcheck | undefined {
  const check = spec?.Healthcheck ?? images.get(spec?.Image ?? '')
  if (!check?.Test || check.Test.length === 0 || check.Test[0] === 'NONE') return undefined
  return check
}

/**
 * @param images healthchecks baked into images this run built, by the image
 *   reference the services use (the engine does not report them in the spec).
 * @param timeLeftMs until the rollout deadline
 */
export function configWarnings(services: Service[], images: Map<string, Healthcheck>, timeLeftMs: number): string[] {
  const warnings: string[] = []
  for (const service of services) {
    const name = service.Spec.Name
    const spec = service.Spec.TaskTemplate.ContainerSpec
    const check = effectiveHealthcheck(spec, images)
    const monitor = monitorMs(service)
    // Whether there is a healthcheck is known for a spec that sets one (or NONE) and for images this run built.
    const known = spec?.Healthcheck !== undefined || images.has(spec?.Image ?? '')
    if (service.Spec.UpdateConfig?.Order === 'start-first' && !check && known) {
      warnings.push(
        `${name}: update order start-first without a healthcheck: Swarm counts a new task as ready the moment it starts, so old tasks stop before the new ones are known to work`
      )
    }
    if (check) {
      const intervalMs = check.Interval ? check.Interval / NS_PER_MS : DEFAULT_INTERVAL_MS
      const neededMs = (check.StartPeriod ?? 0) / NS_PER_MS + intervalMs * (check.Retries || DEFAULT_RETRIES)
      if (monitor < neededMs) {
        warnings.push(
          `${name}: update monitor (${seconds(monitor)}) is shorter than the healthcheck needs to declare a task unhealthy (start_period + interval × retries = ${seconds(neededMs)}): Swarm may call a failing update completed; raise deploy.update_config.monitor`
        )
      }
    }
    const startsTasks = !isJob(modeOf(service)) && service.Spec.Mode.Replicated?.Replicas !== 0
    if (startsTasks && monitor >= timeLeftMs) {
      warnings.push(
        `${name}: update monitor (${seconds(monitor)}) is not shorter than the time left before the timeout (${seconds(timeLeftMs)}): a task this deploy starts counts only once it has stayed up that long, so the rollout cannot converge in time; raise the timeout input`
      )
    }
  }
  return warnings
}

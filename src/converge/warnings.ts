// Compose settings that make Swarm's own verdict unreliable, found before
// the wait: better a warning now than a "completed" that was not healthy.
import { monitorMs } from './judge.js'
import type { Healthcheck, Service } from './swarm.js'

const SECOND = 1e9
const seconds = (ns: number): string => `${Math.round((ns / SECOND) * 10) / 10}s`

// Docker's defaults when the spec leaves a field out.
const DEFAULT_INTERVAL = 30 * SECOND
const DEFAULT_RETRIES = 3

function effectiveHealthcheck(service: Service, images: Map<string, Healthcheck>): Healthcheck | undefined {
  const spec = service.Spec.TaskTemplate.ContainerSpec
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
    const update = service.Spec.UpdateConfig
    const check = effectiveHealthcheck(service, images)
    const monitor = monitorMs(service) * 1e6
    const known = check !== undefined || service.Spec.TaskTemplate.ContainerSpec?.Healthcheck !== undefined || images.has(service.Spec.TaskTemplate.ContainerSpec?.Image ?? '')
    if (update?.Order === 'start-first' && !check && known) {
      warnings.push(`${name}: update order start-first without a healthcheck: Swarm counts a new task as ready the moment it starts, so old tasks stop before the new ones are known to work`)
    }
    if (check) {
      const needed = (check.StartPeriod ?? 0) + (check.Interval || DEFAULT_INTERVAL) * (check.Retries || DEFAULT_RETRIES)
      if (monitor < needed) {
        warnings.push(`${name}: update monitor (${seconds(monitor)}) is shorter than the healthcheck needs to declare a task unhealthy (start_period + interval × retries = ${seconds(needed)}): Swarm may call a failing update completed; raise deploy.update_config.monitor`)
      }
    }
    const mode = service.Spec.Mode
    const startsTasks = !mode.ReplicatedJob && !mode.GlobalJob && mode.Replicated?.Replicas !== 0
    if (startsTasks && monitor >= timeLeftMs * 1e6) {
      warnings.push(`${name}: update monitor (${seconds(monitor)}) is not shorter than the time left before the timeout (${seconds(timeLeftMs * 1e6)}): a task this deploy starts counts only once it has stayed up that long, so the rollout cannot converge in time; raise the timeout input`)
    }
  }
  return warnings
}

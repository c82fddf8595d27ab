// Service specs as the judge compares them: by content, in stable JSON, so
// that what this deploy put on the swarm can be told from what was there
// before and from what someone else put there since.
import type { Service, Snapshot, Task, TaskSpec } from '../swarm/model.js'
import { STACK_LABEL } from '../swarm/model.js'
import { stableStringify } from './stable-json.js'
import type { Baseline, Deployed, ServiceBaseline, ServiceMode } from './verdict.js'

/**
 * A task this deploy started counts as up once it has stayed running for the
 * service's update monitor period, as Swarm's own updater counts it; a
 * container that exits a moment after it starts is running in some
 * snapshots. This is Swarm's default monitor, used when none is set.
 */
export const DEFAULT_MONITOR_MS = 5_000

/** Stable JSON of the task template: equal strings mean Swarm has nothing to roll out. */
export function templateKey(template: TaskSpec): string {
  return stableStringify(template)
}

export const specKeyOf = (spec: Service['Spec']): string => stableStringify(spec)

export function stackServices(snapshot: Snapshot, stack: string): Service[] {
  return snapshot.services.filter(s => s.Spec.Labels?.[STACK_LABEL] === stack)
}

export function baselineOf(snapshot: Snapshot, stack: string): Baseline {
  const services: Record<string, ServiceBaseline> = {}
  for (const service of stackServices(snapshot, stack)) {
    services[service.Spec.Name] = {
      id: service.ID,
      templateKey: templateKey(service.Spec.TaskTemplate),
      specKey: specKeyOf(service.Spec),
      updateStartedAt: service.UpdateStatus?.StartedAt
    }
  }
  return { services, taskIds: snapshot.tasks.map(t => t.ID) }
}

/** Record what this deploy put on the swarm, from the first snapshot after `docker stack deploy` returned. */
export function deployedOf(baseline: Baseline, snapshot: Snapshot, stack: string): Deployed {
  const deployed: Deployed = {}
  for (const service of stackServices(snapshot, stack)) {
    const before = baseline.services[service.Spec.Name]
    const specKey = specKeyOf(service.Spec)
    deployed[service.Spec.Name] = {
      id: service.ID,
      spec: service.Spec,
      specKey,
      previousKey: service.PreviousSpec ? specKeyOf(service.PreviousSpec as Service['Spec']) : undefined,
      change: before === undefined || before.id !== service.ID ? 'created' : before.specKey === specKey ? 'unchanged' : 'updated'
    }
  }
  return deployed
}

/** The service's update monitor period, in ms. */
export function monitorMs(service: Service): number {
  const monitor = service.Spec.UpdateConfig?.Monitor ?? 0
  return monitor > 0 ? monitor / 1e6 : DEFAULT_MONITOR_MS
}

export const isJob = (mode: ServiceMode): boolean => mode === 'replicated-job' || mode === 'global-job'

export function modeOf(service: Pick<Service, 'Spec'>): ServiceMode {
  const mode = service.Spec.Mode
  if (mode.Global) return 'global'
  if (mode.ReplicatedJob) return 'replicated-job'
  if (mode.GlobalJob) return 'global-job'
  return 'replicated'
}

/** A task runs the service's current spec (image and forced-restart counter). */
export function runsCurrentSpec(task: Task, service: Service): boolean {
  const template = service.Spec.TaskTemplate
  return task.Spec.ContainerSpec?.Image === template.ContainerSpec?.Image && (task.Spec.ForceUpdate ?? 0) === (template.ForceUpdate ?? 0)
}

/**
 * "replicas 4 → 6" when the two specs differ in nothing but the replica
 * count (`docker service scale`, an autoscaler), else undefined.
 */
export function rescaledOnly(before: Service['Spec'], after: Service['Spec']): string | undefined {
  const from = before.Mode.Replicated?.Replicas
  const to = after.Mode.Replicated?.Replicas
  if (from === undefined || to === undefined || from === to) return undefined
  const unscaled = (spec: Service['Spec']): string => specKeyOf({ ...spec, Mode: { ...spec.Mode, Replicated: { ...spec.Mode.Replicated, Replicas: 0 } } })
  return unscaled(before) === unscaled(after) ? `replicas ${from} → ${to}` : undefined
}

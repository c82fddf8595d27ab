// One service as the preview compares it, built the same way from both
// sides: from the compose service `docker stack config` printed (the docker
// CLI's own loader, so merging, interpolation, env_file and the long forms
// are its), and from the live ServiceSpec the Engine API returns. Every field
// gets the value Swarm or the docker CLI would fill in when the compose file
// is silent, so that an unchanged service compares equal. What `docker stack
// deploy` adds that compose does not say (the stack labels, the image's
// platforms, the networks' IDs) is left out or mapped back. Pure.
import { isVersionOf } from '../deploy/stack-objects.js'
import type { MountSource, ObjectFile, ResourceSource, ServiceView, UpdateSource } from './service-shape.js'
import { view } from './service-shape.js'
import type { Json } from './spec-values.js'
import { composeHosts, composeUlimits, isObject, list, obj, str, strings } from './spec-values.js'

export type { ObjectRef, ServiceView } from './service-shape.js'
export { durationNs, normalizeImage, showDuration } from './spec-values.js'

export interface ComposeContext {
  stack: string
  /** The whole `docker stack config` document: its top-level networks, volumes, secrets and configs name what services refer to. */
  doc: Json
  /** The image this run would build and push (`<repo>:<tag>`), which IMAGE stands for. */
  builtImage?: string
}

/** The name a top-level entry gets on the swarm: its `name`, the key itself when external, else `<stack>_<key>`. */
function swarmName(section: unknown, key: string, stack: string): string {
  const entry = obj(obj(section)[key])
  if (str(entry.name)) return String(entry.name)
  if (entry.external === true || isObject(entry.external)) return str(obj(entry.external).name) ?? key
  return `${stack}_${key}`
}

/** The would-be view of one service of a `docker stack config` document. */
export function composeView(name: string, service: Json, context: ComposeContext): ServiceView {
  const { stack, doc } = context
  const deploy = obj(service.deploy)
  const image = String(service.image ?? '')
  const toBeBuilt = context.builtImage !== undefined && image === context.builtImage
  const env: Record<string, string | null> = {}
  for (const [k, v] of Object.entries(obj(service.environment))) env[k] = v === null || v === undefined ? null : String(v)
  const files = (kind: 'secrets' | 'configs'): ObjectFile[] =>
    list(service[kind]).map(raw => {
      const entry = typeof raw === 'string' ? { source: raw } : obj(raw)
      const source = String(entry.source)
      return { target: str(entry.target) ?? source, name: swarmName(doc[kind], source, stack), uid: entry.uid, gid: entry.gid, mode: entry.mode }
    })
  const mounts = list(service.volumes).map((raw): MountSource => {
    const v = obj(raw)
    const type = str(v.type) ?? 'volume'
    const source = str(v.source)
    return {
      target: String(v.target),
      type,
      source: type === 'volume' && source ? swarmName(doc.volumes, source, stack) : (source ?? ''),
      readOnly: v.read_only === true,
      nocopy: obj(v.volume).nocopy === true,
      propagation: obj(v.bind).propagation,
      size: obj(v.tmpfs).size
    }
  })
  const networks = isObject(service.networks)
    ? service.networks
    : Array.isArray(service.networks)
      ? Object.fromEntries(strings(service.networks).map(n => [n, null]))
      : { default: null }
  const placement = obj(deploy.placement)
  const update = (config: Json): UpdateSource => ({
    parallelism: config.parallelism,
    delay: config.delay,
    failureAction: config.failure_action,
    monitor: config.monitor,
    maxFailureRatio: config.max_failure_ratio,
    order: config.order
  })
  const resource = (r: Json): ResourceSource => ({ cpus: Number(r.cpus ?? 0), memory: r.memory, pids: r.pids })
  const restart = obj(deploy.restart_policy)
  const healthcheck = obj(service.healthcheck)
  const logging = obj(service.logging)
  return view({
    name,
    image: { reference: image, keepDigest: image.includes('@'), shown: toBeBuilt ? `${image} (to be built)` : image, toBeBuilt },
    env,
    labels: deploy.labels,
    containerLabels: service.labels,
    secrets: files('secrets'),
    configs: files('configs'),
    mounts,
    mode: str(deploy.mode) ?? 'replicated',
    replicas: deploy.replicas,
    ports: list(service.ports).map(raw => {
      const p = obj(raw)
      return { published: p.published, target: p.target, protocol: p.protocol, mode: p.mode }
    }),
    endpointMode: deploy.endpoint_mode,
    update: update(obj(deploy.update_config)),
    rollback: update(obj(deploy.rollback_config)),
    constraints: placement.constraints,
    spreads: list(placement.preferences).map(p => obj(p).spread),
    maxReplicasPerNode: placement.max_replicas_per_node,
    limits: resource(obj(obj(deploy.resources).limits)),
    reservations: resource(obj(obj(deploy.resources).reservations)),
    restart: { condition: restart.condition, delay: restart.delay, maxAttempts: restart.max_attempts, window: restart.window },
    networks: Object.entries(networks).map(([key, value]) => ({ name: swarmName(doc.networks, key, stack), aliases: [name, ...strings(obj(value).aliases)] })),
    command: service.command,
    entrypoint: service.entrypoint,
    healthcheck:
      healthcheck.disable === true
        ? 'none'
        : {
            test: healthcheck.test,
            interval: healthcheck.interval,
            timeout: healthcheck.timeout,
            retries: healthcheck.retries,
            startPeriod: healthcheck.start_period,
            startInterval: healthcheck.start_interval
          },
    hostname: service.hostname,
    workingDir: service.working_dir,
    user: service.user,
    init: service.init === true,
    stopGracePeriod: service.stop_grace_period,
    stopSignal: service.stop_signal,
    tty: service.tty === true,
    stdinOpen: service.stdin_open === true,
    readOnly: service.read_only === true,
    capAdd: service.cap_add,
    capDrop: service.cap_drop,
    sysctls: service.sysctls,
    ulimits: composeUlimits(service.ulimits),
    extraHosts: composeHosts(service.extra_hosts),
    dns: service.dns,
    dnsSearch: service.dns_search,
    logDriver: logging.driver,
    logOptions: logging.options,
    groups: service.group_add
  })
}

/** The live view of a service's spec. `networkNames` maps network IDs to names (the API stores IDs). */
export function liveView(stack: string, spec: Json, networkNames: ReadonlyMap<string, string>): ServiceView {
  const fullName = String(spec.Name ?? '')
  const task = obj(spec.TaskTemplate)
  const container = obj(task.ContainerSpec)
  const image = String(container.Image ?? '')
  const modeObj = obj(spec.Mode)
  const mode = 'Global' in modeObj ? 'global' : 'ReplicatedJob' in modeObj ? 'replicated-job' : 'GlobalJob' in modeObj ? 'global-job' : 'replicated'
  const env: Record<string, string | null> = {}
  for (const entry of strings(container.Env)) {
    const eq = entry.indexOf('=')
    if (eq < 0) env[entry] = null
    else env[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  const files = (items: unknown, nameKey: string): ObjectFile[] =>
    list(items).map(raw => {
      const item = obj(raw)
      const file = obj(item.File)
      return { target: String(file.Name ?? ''), name: String(item[nameKey] ?? ''), uid: file.UID, gid: file.GID, mode: file.Mode }
    })
  const mounts = list(container.Mounts).map((raw): MountSource => {
    const m = obj(raw)
    return {
      target: String(m.Target),
      type: str(m.Type) ?? 'volume',
      source: str(m.Source) ?? '',
      readOnly: m.ReadOnly === true,
      nocopy: obj(m.VolumeOptions).NoCopy === true,
      propagation: obj(m.BindOptions).Propagation,
      size: obj(m.TmpfsOptions).SizeBytes
    }
  })
  const endpoint = obj(spec.EndpointSpec)
  const placement = obj(task.Placement)
  const update = (config: Json): UpdateSource => ({
    parallelism: config.Parallelism,
    delay: config.Delay,
    failureAction: config.FailureAction,
    monitor: config.Monitor,
    maxFailureRatio: config.MaxFailureRatio,
    order: config.Order
  })
  const resource = (r: Json): ResourceSource => ({ cpus: Number(r.NanoCPUs ?? 0) / 1e9, memory: r.MemoryBytes, pids: r.Pids })
  const restart = obj(task.RestartPolicy)
  const healthcheck = obj(container.Healthcheck)
  const log = obj(task.LogDriver)
  const dnsConfig = obj(container.DNSConfig)
  return view({
    name: fullName.startsWith(`${stack}_`) ? fullName.slice(stack.length + 1) : fullName,
    image: { reference: image, keepDigest: false, shown: image, toBeBuilt: false },
    env,
    labels: spec.Labels,
    containerLabels: container.Labels,
    secrets: files(container.Secrets, 'SecretName'),
    configs: files(container.Configs, 'ConfigName'),
    mounts,
    mode,
    replicas: mode === 'replicated-job' ? obj(modeObj.ReplicatedJob).TotalCompletions : obj(modeObj.Replicated).Replicas,
    ports: list(endpoint.Ports).map(raw => {
      const p = obj(raw)
      return { published: p.PublishedPort, target: p.TargetPort, protocol: p.Protocol, mode: p.PublishMode }
    }),
    endpointMode: endpoint.Mode,
    update: update(obj(spec.UpdateConfig)),
    rollback: update(obj(spec.RollbackConfig)),
    constraints: placement.Constraints,
    spreads: list(placement.Preferences).map(p => obj(obj(p).Spread).SpreadDescriptor),
    maxReplicasPerNode: placement.MaxReplicas,
    limits: resource(obj(obj(task.Resources).Limits)),
    reservations: resource(obj(obj(task.Resources).Reservations)),
    restart: { condition: restart.Condition, delay: restart.Delay, maxAttempts: restart.MaxAttempts, window: restart.Window },
    networks: list(task.Networks).map(raw => {
      const n = obj(raw)
      const target = String(n.Target ?? '')
      return { name: networkNames.get(target) ?? target, aliases: strings(n.Aliases) }
    }),
    command: container.Args,
    entrypoint: container.Command,
    // The API's durations are numbers already.
    healthcheck:
      strings(healthcheck.Test)[0] === 'NONE'
        ? 'none'
        : {
            test: healthcheck.Test,
            interval: Number(healthcheck.Interval ?? 0),
            timeout: Number(healthcheck.Timeout ?? 0),
            retries: healthcheck.Retries,
            startPeriod: Number(healthcheck.StartPeriod ?? 0),
            startInterval: Number(healthcheck.StartInterval ?? 0)
          },
    hostname: container.Hostname,
    workingDir: container.Dir,
    user: container.User,
    init: container.Init === true,
    stopGracePeriod: container.StopGracePeriod === undefined ? undefined : Number(container.StopGracePeriod),
    stopSignal: container.StopSignal,
    tty: container.TTY === true,
    stdinOpen: container.OpenStdin === true,
    readOnly: container.ReadOnly === true,
    capAdd: container.CapabilityAdd,
    capDrop: container.CapabilityDrop,
    sysctls: container.Sysctls,
    ulimits: list(container.Ulimits).map(u => `${String(obj(u).Name)}=${String(obj(u).Soft)}:${String(obj(u).Hard)}`),
    extraHosts: strings(container.Hosts),
    dns: dnsConfig.Nameservers,
    dnsSearch: dnsConfig.Search,
    logDriver: log.Name,
    logOptions: log.Options,
    groups: container.Groups
  })
}

/** A version name shown by its key: `<stack>_<key>_<hash>` → `<key>`. */
export function objectKey(stack: string, name: string): string {
  return isVersionOf(stack, name) ? name.slice(stack.length + 1, name.lastIndexOf('_')) : name
}

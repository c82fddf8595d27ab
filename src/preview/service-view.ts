// One service as the preview compares it, built the same way from both
// sides: from the compose service `docker stack config` printed (the docker
// CLI's own loader, so merging, interpolation, env_file and the long forms
// are its), and from the live ServiceSpec the Engine API returns. Every field
// gets the value Swarm or the docker CLI would fill in when the compose file
// is silent, so that an unchanged service compares equal. What `docker stack
// deploy` adds that compose does not say (the stack labels, the image's
// platforms, the networks' IDs) is left out or mapped back. Pure.
import { isVersionOf } from '../deploy/stack-objects.js'
import { STACK_LABEL } from '../swarm/model.js'

type Json = Record<string, unknown>

/** Fields compared by value whose values may be shown (none can hold a secret of the env input unless it is interpolated, and every line is redacted). */
export interface ServiceView {
  /** The service's compose key, without the stack prefix. */
  name: string
  /** The image as compared: familiar name, tag (`latest` when none), and the digest only when the compose file pins one. */
  image: string
  /** The image as shown. */
  imageShown: string
  /** The image is the one this run would build (`${IMAGE}` with build: true): always a change. */
  toBeBuilt: boolean
  /** Environment by name; null for a name without a value. Never shown. */
  env: Record<string, string | null>
  /** `deploy.labels`, and `labels` (the containers'), without the stack's own. Values never shown. */
  labels: Record<string, string>
  containerLabels: Record<string, string>
  /** Secrets and configs by target, with the version name they would mount. */
  secrets: Record<string, ObjectRef>
  configs: Record<string, ObjectRef>
  /** Mounts by target. Values never shown (volume options can hold credentials). */
  mounts: Record<string, unknown>
  /** Fields whose values may be shown: mode, replicas, ports, update and rollback config, placement, resources, restart policy, networks. */
  shown: Record<string, unknown>
  /** Fields named when they differ, never with their values (command lines and health checks can hold secrets). */
  named: Record<string, unknown>
}

export interface ObjectRef {
  /** The swarm object's name (a version name for ours). */
  name: string
  file: string
}

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value)
const obj = (value: unknown): Json => (isObject(value) ? value : {})
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])
const strings = (value: unknown): string[] => list(value).map(String)
const str = (value: unknown): string | undefined => (value === undefined || value === null || value === '' ? undefined : String(value))

// Swarm's and the docker CLI's defaults, as a service deployed from a compose
// file that sets nothing shows them (see __tests__/fixtures/preview-live.json).
const SECOND = 1_000_000_000
const UPDATE_DEFAULTS = { parallelism: 1, delay: 0, failure_action: 'pause', monitor: 5 * SECOND, max_failure_ratio: 0, order: 'stop-first' }
const RESTART_DEFAULTS = { condition: 'any', delay: 5 * SECOND, max_attempts: 0, window: 0 }
const STOP_GRACE_DEFAULT = 10 * SECOND
const FILE_MODE_DEFAULT = 0o444

/** A Go duration (`1m30s`, `500ms`, `1h0m0s`) as `docker stack config` prints it, in nanoseconds. */
export function durationNs(value: unknown): number {
  if (typeof value === 'number') return value
  const text = str(value)
  if (text === undefined) return 0
  const units: Record<string, number> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, µs: 1e3, ns: 1 }
  let total = 0
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(amount) * units[unit!]!
  return Math.round(total)
}

/** Nanoseconds shown the short way: `1m30s`, `500ms`, `0s`. */
export function showDuration(ns: number): string {
  if (ns === 0) return '0s'
  if (ns % 1e9 !== 0) return `${ns / 1e6}ms`
  const s = ns / 1e9
  const [h, m, rest] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60]
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${rest ? `${rest}s` : ''}`
}

/** A reference the way the docker CLI writes it back: `docker.io/library/` dropped, `latest` when there is no tag. */
export function normalizeImage(reference: string, keepDigest: boolean): string {
  let ref = reference.trim()
  const at = ref.indexOf('@')
  const digest = at >= 0 ? ref.slice(at) : ''
  if (at >= 0) ref = ref.slice(0, at)
  ref = ref.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\/(library\/)?/, '')
  const lastSlash = ref.lastIndexOf('/')
  const hasTag = ref.indexOf(':', lastSlash + 1) >= 0
  if (!hasTag && !(digest !== '' && keepDigest)) ref = `${ref}:latest`
  return keepDigest ? `${ref}${digest}` : ref
}

const hasDigest = (reference: string): boolean => reference.includes('@')

function withoutStackLabels(labels: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(obj(labels))) if (k !== STACK_LABEL && k !== 'com.docker.stack.image') out[k] = String(v ?? '')
  return out
}

function updateConfig(source: Json, fromSpec: boolean): Json {
  const pick = (compose: string, api: string): unknown => (fromSpec ? source[api] : source[compose])
  return {
    parallelism: Number(pick('parallelism', 'Parallelism') ?? UPDATE_DEFAULTS.parallelism),
    delay: showDuration(durationNs(pick('delay', 'Delay'))),
    failure_action: str(pick('failure_action', 'FailureAction')) ?? UPDATE_DEFAULTS.failure_action,
    monitor: showDuration(durationNs(pick('monitor', 'Monitor')) || UPDATE_DEFAULTS.monitor),
    max_failure_ratio: Number(pick('max_failure_ratio', 'MaxFailureRatio') ?? 0),
    order: str(pick('order', 'Order')) ?? UPDATE_DEFAULTS.order
  }
}

function restartPolicy(source: Json, fromSpec: boolean): Json {
  const pick = (compose: string, api: string): unknown => (fromSpec ? source[api] : source[compose])
  const delay = pick('delay', 'Delay')
  return {
    condition: str(pick('condition', 'Condition')) ?? RESTART_DEFAULTS.condition,
    delay: showDuration(delay === undefined || delay === null ? RESTART_DEFAULTS.delay : durationNs(delay)),
    max_attempts: Number(pick('max_attempts', 'MaxAttempts') ?? 0),
    window: showDuration(durationNs(pick('window', 'Window')))
  }
}

/** Only what is set: `cpus`, `memory` (bytes), `pids`. */
function resources(limits: Json, reservations: Json, fromSpec: boolean): Json {
  const out: Json = {}
  const put = (where: string, source: Json): void => {
    const cpus = fromSpec ? Number(source.NanoCPUs ?? 0) / 1e9 : Number(source.cpus ?? 0)
    const memory = Number((fromSpec ? source.MemoryBytes : source.memory) ?? 0)
    const pids = Number((fromSpec ? source.Pids : source.pids) ?? 0)
    if (cpus) out[`${where}.cpus`] = cpus
    if (memory) out[`${where}.memory`] = memory
    if (pids) out[`${where}.pids`] = pids
  }
  put('limits', limits)
  put('reservations', reservations)
  return out
}

/** The docker CLI writes capabilities with the `CAP_` prefix. */
const capabilities = (value: unknown): string[] =>
  strings(value)
    .map(c => (c.toUpperCase() === 'ALL' || c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`))
    .sort()

/** `ulimits: {nofile: {soft, hard}}` or `nofile: 10`, and the API's `[{Name, Soft, Hard}]`, as `nofile=soft:hard`. */
function ulimits(value: unknown, fromSpec: boolean): string[] {
  if (fromSpec)
    return list(value)
      .map(u => `${String(obj(u).Name)}=${String(obj(u).Soft)}:${String(obj(u).Hard)}`)
      .sort()
  return Object.entries(obj(value))
    .map(([name, limit]) => (isObject(limit) ? `${name}=${String(limit.soft)}:${String(limit.hard)}` : `${name}=${String(limit)}:${String(limit)}`))
    .sort()
}

/** `extra_hosts` entries `host:ip` (or `host=ip`) the way the API keeps them: `ip host`. */
const hosts = (value: unknown): string[] =>
  (Array.isArray(value) ? strings(value) : Object.entries(obj(value)).map(([h, ip]) => `${h}:${String(ip)}`))
    .map(entry => {
      const at = entry.search(/[:=]/)
      return at < 0 ? entry : `${entry.slice(at + 1)} ${entry.slice(0, at)}`
    })
    .sort()

const sysctls = (value: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(value)).map(([k, v]) => [k, String(v)]))

const portText = (published: unknown, target: unknown, protocol: unknown, mode: unknown): string =>
  `${published ? `${String(published)}:` : ''}${String(target)}/${str(protocol) ?? 'tcp'}${(str(mode) ?? 'ingress') === 'host' ? ' (host)' : ''}`

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
  const mode = str(deploy.mode) ?? 'replicated'

  const env: Record<string, string | null> = {}
  for (const [k, v] of Object.entries(obj(service.environment))) env[k] = v === null || v === undefined ? null : String(v)

  const refs = (kind: 'secrets' | 'configs'): Record<string, ObjectRef> => {
    const out: Record<string, ObjectRef> = {}
    for (const raw of list(service[kind])) {
      const entry = typeof raw === 'string' ? { source: raw } : obj(raw)
      const source = String(entry.source)
      const target = str(entry.target) ?? source
      const file = `${str(entry.uid) ?? '0'}:${str(entry.gid) ?? '0'} ${Number(entry.mode ?? FILE_MODE_DEFAULT).toString(8)}`
      out[target] = { name: swarmName(doc[kind], source, stack), file }
    }
    return out
  }

  const mounts: Record<string, unknown> = {}
  for (const raw of list(service.volumes)) {
    const v = obj(raw)
    const type = str(v.type) ?? 'volume'
    const source = str(v.source)
    mounts[String(v.target)] = {
      type,
      source: type === 'volume' && source ? swarmName(doc.volumes, source, stack) : (source ?? ''),
      readOnly: v.read_only === true,
      nocopy: obj(v.volume).nocopy === true,
      propagation: str(obj(v.bind).propagation) ?? '',
      size: Number(obj(v.tmpfs).size ?? 0)
    }
  }

  const networks = isObject(service.networks)
    ? service.networks
    : Array.isArray(service.networks)
      ? Object.fromEntries(strings(service.networks).map(n => [n, null]))
      : { default: null }
  const placement = obj(deploy.placement)
  const endpoint = str(deploy.endpoint_mode) ?? 'vip'
  const ports = list(service.ports).map(raw => {
    const p = obj(raw)
    return portText(p.published, p.target, p.protocol, p.mode)
  })
  const healthcheck = obj(service.healthcheck)
  const logging = obj(service.logging)

  return {
    name,
    image: normalizeImage(image, hasDigest(image)),
    imageShown: toBeBuilt ? `${image} (to be built)` : image,
    toBeBuilt,
    env,
    labels: withoutStackLabels(deploy.labels),
    containerLabels: withoutStackLabels(service.labels),
    secrets: refs('secrets'),
    configs: refs('configs'),
    mounts,
    shown: {
      mode,
      ...(mode === 'replicated' || mode === 'replicated-job' ? { replicas: Number(deploy.replicas ?? 1) } : {}),
      ports: ports.sort(),
      endpoint_mode: endpoint,
      update_config: updateConfig(obj(deploy.update_config), false),
      rollback_config: updateConfig(obj(deploy.rollback_config), false),
      placement: {
        constraints: strings(placement.constraints).sort(),
        preferences: list(placement.preferences).map(p => `spread=${String(obj(p).spread)}`),
        max_replicas_per_node: Number(placement.max_replicas_per_node ?? 0)
      },
      resources: resources(obj(obj(deploy.resources).limits), obj(obj(deploy.resources).reservations), false),
      restart_policy: restartPolicy(obj(deploy.restart_policy), false),
      networks: Object.entries(networks)
        .map(([key, value]) => `${swarmName(doc.networks, key, stack)} (aliases ${[name, ...strings(obj(value).aliases)].sort().join(', ')})`)
        .sort()
    },
    named: {
      command: strings(service.command),
      entrypoint: strings(service.entrypoint),
      healthcheck:
        healthcheck.disable === true
          ? { test: ['NONE'] }
          : {
              test: strings(healthcheck.test),
              interval: durationNs(healthcheck.interval),
              timeout: durationNs(healthcheck.timeout),
              retries: Number(healthcheck.retries ?? 0),
              start_period: durationNs(healthcheck.start_period),
              start_interval: durationNs(healthcheck.start_interval)
            },
      hostname: str(service.hostname) ?? '',
      working_dir: str(service.working_dir) ?? '',
      user: str(service.user) ?? '',
      init: service.init === true,
      stop_grace_period: service.stop_grace_period === undefined ? STOP_GRACE_DEFAULT : durationNs(service.stop_grace_period),
      stop_signal: str(service.stop_signal) ?? '',
      tty: service.tty === true,
      stdin_open: service.stdin_open === true,
      read_only: service.read_only === true,
      cap_add: capabilities(service.cap_add),
      cap_drop: capabilities(service.cap_drop),
      sysctls: sysctls(service.sysctls),
      ulimits: ulimits(service.ulimits, false),
      extra_hosts: hosts(service.extra_hosts),
      dns: strings(service.dns),
      dns_search: strings(service.dns_search),
      logging: { driver: str(logging.driver) ?? '', options: obj(logging.options) },
      groups: strings(service.group_add)
    }
  }
}

/** The live view of a service's spec. `networkNames` maps network IDs to names (the API stores IDs). */
export function liveView(stack: string, spec: Json, networkNames: ReadonlyMap<string, string>): ServiceView {
  const fullName = String(spec.Name ?? '')
  const name = fullName.startsWith(`${stack}_`) ? fullName.slice(stack.length + 1) : fullName
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
  const refs = (items: unknown, nameKey: string): Record<string, ObjectRef> => {
    const out: Record<string, ObjectRef> = {}
    for (const raw of list(items)) {
      const item = obj(raw)
      const file = obj(item.File)
      out[String(file.Name ?? '')] = {
        name: String(item[nameKey] ?? ''),
        file: `${str(file.UID) ?? '0'}:${str(file.GID) ?? '0'} ${Number(file.Mode ?? FILE_MODE_DEFAULT).toString(8)}`
      }
    }
    return out
  }
  const mounts: Record<string, unknown> = {}
  for (const raw of list(container.Mounts)) {
    const m = obj(raw)
    mounts[String(m.Target)] = {
      type: str(m.Type) ?? 'volume',
      source: str(m.Source) ?? '',
      readOnly: m.ReadOnly === true,
      nocopy: obj(m.VolumeOptions).NoCopy === true,
      propagation: str(obj(m.BindOptions).Propagation) ?? '',
      size: Number(obj(m.TmpfsOptions).SizeBytes ?? 0)
    }
  }
  const endpoint = obj(spec.EndpointSpec)
  const placement = obj(task.Placement)
  const resourcesObj = obj(task.Resources)
  const healthcheck = obj(container.Healthcheck)
  const log = obj(task.LogDriver)
  return {
    name,
    image: normalizeImage(image, false),
    imageShown: image,
    toBeBuilt: false,
    env,
    labels: withoutStackLabels(spec.Labels),
    containerLabels: withoutStackLabels(container.Labels),
    secrets: refs(container.Secrets, 'SecretName'),
    configs: refs(container.Configs, 'ConfigName'),
    mounts,
    shown: {
      mode,
      ...(mode === 'replicated'
        ? { replicas: Number(obj(modeObj.Replicated).Replicas ?? 1) }
        : mode === 'replicated-job'
          ? { replicas: Number(obj(modeObj.ReplicatedJob).TotalCompletions ?? 1) }
          : {}),
      ports: list(endpoint.Ports)
        .map(raw => {
          const p = obj(raw)
          return portText(p.PublishedPort, p.TargetPort, p.Protocol, p.PublishMode)
        })
        .sort(),
      endpoint_mode: str(endpoint.Mode) ?? 'vip',
      update_config: updateConfig(obj(spec.UpdateConfig), true),
      rollback_config: updateConfig(obj(spec.RollbackConfig), true),
      placement: {
        constraints: strings(placement.Constraints).sort(),
        preferences: list(placement.Preferences).map(p => `spread=${String(obj(obj(p).Spread).SpreadDescriptor)}`),
        max_replicas_per_node: Number(placement.MaxReplicas ?? 0)
      },
      resources: resources(obj(resourcesObj.Limits), obj(resourcesObj.Reservations), true),
      restart_policy: restartPolicy(obj(task.RestartPolicy), true),
      networks: list(task.Networks)
        .map(raw => {
          const n = obj(raw)
          const target = String(n.Target ?? '')
          return `${networkNames.get(target) ?? target} (aliases ${strings(n.Aliases).sort().join(', ')})`
        })
        .sort()
    },
    named: {
      command: strings(container.Args),
      entrypoint: strings(container.Command),
      healthcheck:
        strings(healthcheck.Test)[0] === 'NONE'
          ? { test: ['NONE'] }
          : {
              test: strings(healthcheck.Test),
              interval: Number(healthcheck.Interval ?? 0),
              timeout: Number(healthcheck.Timeout ?? 0),
              retries: Number(healthcheck.Retries ?? 0),
              start_period: Number(healthcheck.StartPeriod ?? 0),
              start_interval: Number(healthcheck.StartInterval ?? 0)
            },
      hostname: str(container.Hostname) ?? '',
      working_dir: str(container.Dir) ?? '',
      user: str(container.User) ?? '',
      init: container.Init === true,
      stop_grace_period: container.StopGracePeriod === undefined ? STOP_GRACE_DEFAULT : Number(container.StopGracePeriod),
      stop_signal: str(container.StopSignal) ?? '',
      tty: container.TTY === true,
      stdin_open: container.OpenStdin === true,
      read_only: container.ReadOnly === true,
      cap_add: capabilities(container.CapabilityAdd),
      cap_drop: capabilities(container.CapabilityDrop),
      sysctls: sysctls(container.Sysctls),
      ulimits: ulimits(container.Ulimits, true),
      extra_hosts: strings(container.Hosts).sort(),
      dns: strings(obj(container.DNSConfig).Nameservers),
      dns_search: strings(obj(container.DNSConfig).Search),
      logging: { driver: str(log.Name) ?? '', options: obj(log.Options) },
      groups: strings(container.Groups)
    }
  }
}

/** A version name shown by its key: `<stack>_<key>_<hash>` → `<key>`. */
export function objectKey(stack: string, name: string): string {
  return isVersionOf(stack, name) ? name.slice(stack.length + 1, name.lastIndexOf('_')) : name
}

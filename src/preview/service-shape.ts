// The common shape of a service on both sides of the preview, and the one
// builder of its view: each side's reader (src/preview/service-view.ts) only
// renames what its document says; Swarm's and the docker CLI's defaults and
// the compared forms are applied here, once for both. Pure.
import { STACK_LABEL } from '../swarm/model.js'
import type { Json } from './spec-values.js'
import { capabilities, durationNs, normalizeImage, obj, showDuration, str, strings, sysctls } from './spec-values.js'

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

// Swarm's and the docker CLI's defaults, as a service deployed from a compose
// file that sets nothing shows them (see __tests__/fixtures/preview-live.json).
const SECOND = 1_000_000_000
const UPDATE_DEFAULTS = { parallelism: 1, delay: 0, failure_action: 'pause', monitor: 5 * SECOND, max_failure_ratio: 0, order: 'stop-first' }
const RESTART_DEFAULTS = { condition: 'any', delay: 5 * SECOND, max_attempts: 0, window: 0 }
const STOP_GRACE_DEFAULT = 10 * SECOND
const FILE_MODE_DEFAULT = 0o444

/**
 * One service as either side says it, in the view's own names: what the two
 * readers (composeView's, liveView's) take from their document, and all
 * that `view` needs. Values a side may leave out stay `unknown`: `view`
 * fills in the defaults and the forms, once for both sides.
 */
export interface ServiceSource {
  name: string
  image: { reference: string; keepDigest: boolean; shown: string; toBeBuilt: boolean }
  env: Record<string, string | null>
  labels: unknown
  containerLabels: unknown
  secrets: ObjectFile[]
  configs: ObjectFile[]
  mounts: MountSource[]
  mode: string
  replicas: unknown
  ports: Array<{ published: unknown; target: unknown; protocol: unknown; mode: unknown }>
  endpointMode: unknown
  update: UpdateSource
  rollback: UpdateSource
  constraints: unknown
  spreads: unknown[]
  maxReplicasPerNode: unknown
  limits: ResourceSource
  reservations: ResourceSource
  restart: { condition: unknown; delay: unknown; maxAttempts: unknown; window: unknown }
  networks: Array<{ name: string; aliases: string[] }>
  command: unknown
  entrypoint: unknown
  /** Durations in nanoseconds or as Go durations. */
  healthcheck: 'none' | { test: unknown; interval: unknown; timeout: unknown; retries: unknown; startPeriod: unknown; startInterval: unknown }
  hostname: unknown
  workingDir: unknown
  user: unknown
  init: boolean
  stopGracePeriod: unknown
  stopSignal: unknown
  tty: boolean
  stdinOpen: boolean
  readOnly: boolean
  capAdd: unknown
  capDrop: unknown
  sysctls: unknown
  /** `name=soft:hard`. */
  ulimits: string[]
  /** `ip host`. */
  extraHosts: string[]
  dns: unknown
  dnsSearch: unknown
  logDriver: unknown
  logOptions: unknown
  groups: unknown
}

/** A secret or config as mounted: its target, the swarm object's name and the file's owner and mode. */
export interface ObjectFile {
  target: string
  name: string
  uid: unknown
  gid: unknown
  mode: unknown
}

export interface MountSource {
  target: string
  type: string
  source: string
  readOnly: boolean
  nocopy: boolean
  propagation: unknown
  size: unknown
}

export interface UpdateSource {
  parallelism: unknown
  delay: unknown
  failureAction: unknown
  monitor: unknown
  maxFailureRatio: unknown
  order: unknown
}

/** CPUs as a count, memory in bytes. */
export interface ResourceSource {
  cpus: number
  memory: unknown
  pids: unknown
}

function withoutStackLabels(labels: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(obj(labels))) if (k !== STACK_LABEL && k !== 'com.docker.stack.image') out[k] = String(v ?? '')
  return out
}

const objectRefs = (files: ObjectFile[]): Record<string, ObjectRef> =>
  Object.fromEntries(
    files.map(f => [f.target, { name: f.name, file: `${str(f.uid) ?? '0'}:${str(f.gid) ?? '0'} ${Number(f.mode ?? FILE_MODE_DEFAULT).toString(8)}` }])
  )

const updateConfig = (source: UpdateSource): Json => ({
  parallelism: Number(source.parallelism ?? UPDATE_DEFAULTS.parallelism),
  delay: showDuration(durationNs(source.delay)),
  failure_action: str(source.failureAction) ?? UPDATE_DEFAULTS.failure_action,
  monitor: showDuration(durationNs(source.monitor) || UPDATE_DEFAULTS.monitor),
  max_failure_ratio: Number(source.maxFailureRatio ?? 0),
  order: str(source.order) ?? UPDATE_DEFAULTS.order
})

/** Only what is set: `cpus`, `memory` (bytes), `pids`. */
function resources(limits: ResourceSource, reservations: ResourceSource): Json {
  const out: Json = {}
  const put = (where: string, source: ResourceSource): void => {
    const memory = Number(source.memory ?? 0)
    const pids = Number(source.pids ?? 0)
    if (source.cpus) out[`${where}.cpus`] = source.cpus
    if (memory) out[`${where}.memory`] = memory
    if (pids) out[`${where}.pids`] = pids
  }
  put('limits', limits)
  put('reservations', reservations)
  return out
}

const portText = (published: unknown, target: unknown, protocol: unknown, mode: unknown): string =>
  `${published ? `${String(published)}:` : ''}${String(target)}/${str(protocol) ?? 'tcp'}${(str(mode) ?? 'ingress') === 'host' ? ' (host)' : ''}`

/** The view of a service, whichever side it was read from. */
export function view(s: ServiceSource): ServiceView {
  const mounts: Record<string, unknown> = {}
  for (const m of s.mounts) {
    mounts[m.target] = {
      type: m.type,
      source: m.source,
      readOnly: m.readOnly,
      nocopy: m.nocopy,
      propagation: str(m.propagation) ?? '',
      size: Number(m.size ?? 0)
    }
  }
  const health = s.healthcheck
  const restartDelay = s.restart.delay
  return {
    name: s.name,
    image: normalizeImage(s.image.reference, s.image.keepDigest),
    imageShown: s.image.shown,
    toBeBuilt: s.image.toBeBuilt,
    env: s.env,
    labels: withoutStackLabels(s.labels),
    containerLabels: withoutStackLabels(s.containerLabels),
    secrets: objectRefs(s.secrets),
    configs: objectRefs(s.configs),
    mounts,
    shown: {
      mode: s.mode,
      ...(s.mode === 'replicated' || s.mode === 'replicated-job' ? { replicas: Number(s.replicas ?? 1) } : {}),
      ports: s.ports.map(p => portText(p.published, p.target, p.protocol, p.mode)).sort(),
      endpoint_mode: str(s.endpointMode) ?? 'vip',
      update_config: updateConfig(s.update),
      rollback_config: updateConfig(s.rollback),
      placement: {
        constraints: strings(s.constraints).sort(),
        preferences: s.spreads.map(spread => `spread=${String(spread)}`),
        max_replicas_per_node: Number(s.maxReplicasPerNode ?? 0)
      },
      resources: resources(s.limits, s.reservations),
      restart_policy: {
        condition: str(s.restart.condition) ?? RESTART_DEFAULTS.condition,
        delay: showDuration(restartDelay === undefined || restartDelay === null ? RESTART_DEFAULTS.delay : durationNs(restartDelay)),
        max_attempts: Number(s.restart.maxAttempts ?? 0),
        window: showDuration(durationNs(s.restart.window))
      },
      networks: s.networks.map(n => `${n.name} (aliases ${[...n.aliases].sort().join(', ')})`).sort()
    },
    named: {
      command: strings(s.command),
      entrypoint: strings(s.entrypoint),
      healthcheck:
        health === 'none'
          ? { test: ['NONE'] }
          : {
              test: strings(health.test),
              interval: durationNs(health.interval),
              timeout: durationNs(health.timeout),
              retries: Number(health.retries ?? 0),
              start_period: durationNs(health.startPeriod),
              start_interval: durationNs(health.startInterval)
            },
      hostname: str(s.hostname) ?? '',
      working_dir: str(s.workingDir) ?? '',
      user: str(s.user) ?? '',
      init: s.init,
      stop_grace_period: s.stopGracePeriod === undefined ? STOP_GRACE_DEFAULT : durationNs(s.stopGracePeriod),
      stop_signal: str(s.stopSignal) ?? '',
      tty: s.tty,
      stdin_open: s.stdinOpen,
      read_only: s.readOnly,
      cap_add: capabilities(s.capAdd),
      cap_drop: capabilities(s.capDrop),
      sysctls: sysctls(s.sysctls),
      ulimits: [...s.ulimits].sort(),
      extra_hosts: [...s.extraHosts].sort(),
      dns: strings(s.dns),
      dns_search: strings(s.dnsSearch),
      logging: { driver: str(s.logDriver) ?? '', options: obj(s.logOptions) },
      groups: strings(s.groups)
    }
  }
}

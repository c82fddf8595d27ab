// Fake adapters for in-process pipeline tests: a docker CLI, a tunnel and an
// Engine API around one scripted swarm, a recording reporter, and a host with
// in-memory files and a fake clock. Every side effect lands in `effects`, in
// order, so a test can tell what happened before what.
import { mkdtempSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Inputs } from '../../src/inputs/inputs.js'
import type { Adapters, CliOptions, CliResult, DockerCli, DockerTunnel, Host, Reporter, StoredConfig, SwarmApi } from '../../src/ports.js'
import { reservationsOf } from '../../src/converge/capacity.js'
import { releaseKeysOf, signedLabels } from '../../src/release/proof.js'
import type { ReleaseStatus } from '../../src/release/record.js'
import { dataDigest } from '../../src/release/record.js'
import type { Node, Service, Snapshot, Task } from '../../src/swarm/model.js'

export const STACK = 'shop'
export const DIGEST = `sha256:${'ab'.repeat(32)}`
export const REPO = 'registry.example.com:5000/acme/shop'
export const PINNED = `${REPO}:v1@${DIGEST}`
export const DB_PASSWORD = 'hunter2-db-password'

/** How the fake swarm behaves once the stack is deployed. */
export type Scenario =
  | 'converge' // the task runs and stays up
  | 'stuck' // the task keeps starting: only the deadline ends the wait
  | 'crash' // every task of the new service fails
  | 'deploy-hangs' // `docker stack deploy` runs into the deadline

export interface WorldOptions {
  scenario?: Scenario
  /** Versions of the stack's secrets/configs on the swarm before the deploy. */
  objects?: Array<{ kind: 'secret' | 'config'; id: string; name: string }>
  /** Swarm configs (release records) there before the deploy. */
  configs?: StoredConfig[]
  /** The tunnel cannot be opened. */
  unreachable?: boolean
  /** `docker build` fails. */
  buildFails?: boolean
  /** Task log text the engine returns for failed tasks. */
  logText?: string
  /** More of the runner's environment (env-passthrough reads it). */
  env?: Record<string, string>
  /** The swarm's cluster ID, which keys secret version names. */
  clusterId?: string
  /** The image the service runs (its spec's, as the swarm reports it). */
  image?: string
  /** Task error text for the crash scenario. */
  taskError?: string
}

export interface ReporterEvent {
  kind: 'secret' | 'phase' | 'end' | 'failed' | 'info' | 'warn' | 'debug' | 'command' | 'stream' | 'output'
  text: string
}

export function recordingReporter(): Reporter & { events: ReporterEvent[]; phases(): string[]; outputs(): Record<string, string>; lines(): string } {
  const events: ReporterEvent[] = []
  const push = (kind: ReporterEvent['kind'], text: string): void => void events.push({ kind, text })
  return {
    events,
    phases: () => events.filter(e => e.kind === 'phase').map(e => e.text),
    outputs: () => Object.fromEntries(events.filter(e => e.kind === 'output').map(e => e.text.split('\0') as [string, string])),
    lines: () =>
      events
        .filter(e => e.kind !== 'secret')
        .map(e => e.text)
        .join('\n'),
    secret: value => push('secret', value),
    async phase(title, fn) {
      push('phase', title)
      try {
        const result = await fn()
        push('end', title)
        return result
      } catch (error) {
        push('failed', title)
        throw error
      }
    },
    info: line => push('info', line),
    warn: line => push('warn', line),
    debug: line => push('debug', line),
    command: argv => push('command', argv.join(' ')),
    stream: chunk => push('stream', chunk.toString('utf8')),
    output: (name, value) => push('output', `${name}\0${value}`)
  }
}

const LABELS = { 'com.docker.stack.namespace': STACK }
const NODES: Node[] = [{ ID: 'n1', Description: { Hostname: 'mgr' }, Status: { State: 'ready' } }]

export function fakeWorld(options: WorldOptions = {}) {
  const scenario = options.scenario ?? 'converge'
  let clock = 1_700_000_000_000
  let calls = 0
  let deployed = false
  const effects: string[] = []
  const loginStdin: string[] = []
  const ecrRegions: string[] = []
  /** The environment each `docker stack deploy` child got. */
  const deployEnvs: Array<Record<string, string>> = []
  /** The compose texts each `docker stack deploy` child was given (the copies, where the deploy wrote any). */
  const deployedCompose: string[][] = []
  const objects = [...(options.objects ?? [])]
  const configs = new Map<string, StoredConfig>((options.configs ?? []).map(c => [c.id, c]))

  const template = { ContainerSpec: { Image: options.image ?? PINNED } }
  const service: Service = {
    ID: 's1',
    Version: { Index: 2 },
    Spec: { Name: `${STACK}_web`, Labels: LABELS, TaskTemplate: template, Mode: { Replicated: { Replicas: 1 } } }
  }
  const task = (id: string, slot: number, status: Task['Status'], desired: Task['DesiredState'] = 'running'): Task => ({
    ID: id,
    ServiceID: 's1',
    Slot: slot,
    NodeID: 'n1',
    Spec: template,
    DesiredState: desired,
    Status: status
  })
  const snapshot = (): Snapshot => {
    if (!deployed) return { services: [], tasks: [], nodes: NODES }
    const tasks: Task[] =
      scenario === 'converge'
        ? [task('t1', 1, { State: 'running' })]
        : scenario === 'stuck'
          ? [task('t1', 1, { State: 'starting' })]
          : [
              task('t1', 1, { State: 'failed', Err: options.taskError ?? `task: non-zero exit (3)`, ContainerStatus: { ExitCode: 3 } }, 'shutdown'),
              task('t2', 1, { State: 'failed', Err: options.taskError ?? `task: non-zero exit (3)`, ContainerStatus: { ExitCode: 3 } }, 'shutdown')
            ]
    return { services: [service], tasks, nodes: NODES }
  }

  const cli: DockerCli = {
    async run(args: string[], opts: CliOptions = {}): Promise<CliResult> {
      const ok = (stdout = ''): CliResult => ({ code: 0, stdout, stderr: '', timedOut: false })
      if (args[0] === 'login') {
        effects.push('login')
        loginStdin.push(opts.stdin ?? '')
        return ok()
      }
      if (args[0] === 'build') {
        effects.push('build')
        return options.buildFails ? { code: 1, stdout: '', stderr: 'failed to solve: RUN exit 1', timedOut: false } : ok()
      }
      if (args[0] === 'push') {
        effects.push(`push ${args[1]}`)
        return ok(`v1: digest: ${DIGEST} size: 528\n`)
      }
      if (args[0] === 'image' && args[1] === 'inspect') return ok(`["${REPO}@${DIGEST}"]\tnull\n`)
      if (args[0] === 'stack' && args[1] === 'deploy') {
        effects.push('stack deploy')
        deployEnvs.push({ ...opts.env })
        deployedCompose.push(args.flatMap((arg, i) => (args[i - 1] === '--compose-file' ? [files.get(path.normalize(arg)) ?? ''] : [])))
        if (scenario === 'deploy-hangs') {
          clock += opts.timeoutMs ?? 0
          return { code: -1, stdout: '', stderr: '', timedOut: true }
        }
        deployed = true
        return ok()
      }
      if (args[0] === 'stack' && args[1] === 'config') {
        // The docker CLI's loader on COMPOSE, interpolated from the child's environment as it would be.
        effects.push('stack config')
        return ok(
          `services:\n  web:\n    image: ${opts.env?.IMAGE ?? ''}\n    environment:\n      DB_PASSWORD: ${JSON.stringify(opts.env?.DB_PASSWORD ?? '')}\n`
        )
      }
      throw new Error(`fake docker CLI: unexpected ${args.join(' ')}`)
    }
  }

  let bytesRead = 0
  const api: SwarmApi = {
    info: async () => (
      calls++,
      effects.push('info'),
      { serverVersion: '20.10.24', isManager: true, swarmState: 'active', clusterId: options.clusterId ?? 'fake-cluster-id' }
    ),
    snapshot: async () => {
      calls++
      const reply = snapshot()
      // What a real engine would send back through the tunnel for it.
      bytesRead += JSON.stringify(reply).length
      return reply
    },
    reservations: async () => (calls++, reservationsOf(snapshot().tasks)),
    taskLogs: async taskId => {
      calls++
      effects.push(`logs ${taskId}`)
      return Buffer.from(options.logText ?? 'starting\nboom\n')
    },
    rollback: async id => void effects.push(`rollback ${id}`),
    readService: async id => {
      calls++
      if (!deployed || id !== service.ID) throw new Error(`fake swarm: no such service ${id}`)
      return structuredClone(service)
    },
    updateRegistryAuth: async (id, version) => {
      calls++
      effects.push(`update registry auth ${id} at version ${version}`)
      return []
    },
    updateService: async (id, version) => {
      calls++
      effects.push(`update ${id} at version ${version}`)
      return []
    },
    ensureObject: async (kind, name) => (effects.push(`create ${kind} ${name}`), 'created'),
    listObjects: async () => (effects.push('list objects'), objects),
    removeObject: async (kind, id) => {
      // The deploy lock is a config too; its removal is not a pruned version.
      if (configs.get(id)?.name.endsWith('_lock')) effects.push(`unlock ${configs.get(id)!.name}`)
      else effects.push(`remove ${kind} ${id}`)
      configs.delete(id)
    },
    listConfigs: async labels => {
      calls++
      return [...configs.values()].filter(c => Object.entries(labels).every(([k, v]) => (v === '' ? k in c.labels : c.labels[k] === v))).map(c => ({ ...c }))
    },
    createConfig: async (name, data, labels) => {
      calls++
      if ([...configs.values()].some(c => c.name === name)) return 'exists'
      const id = `cfg${configs.size + 1}-${name}`
      configs.set(id, { id, version: 1, name, labels: { ...labels }, data })
      effects.push(name.endsWith('_lock') ? `lock ${name}` : `create release ${name}`)
      return 'created'
    },
    setConfigLabels: async (config, labels) => {
      calls++
      const stored = configs.get(config.id)
      if (!stored || stored.version !== config.version) throw new Error(`fake swarm: update out of sequence for ${config.name}`)
      // Like raft's index, the version moves by more than one: a client must read it fresh.
      configs.set(config.id, { ...stored, version: stored.version + 7, labels: { ...labels } })
      effects.push(`label release ${config.name} ${labels['io.swarm-deploy.release.status']}`)
    },
    networks: async () => [],
    wholeSwarm: async () => (calls++, snapshot()),
    serviceTasks: async () => (calls++, []),
    addressPool: async () => ({ pools: ['10.0.0.0/8'], size: 24, defaulted: true }),
    calls: () => calls,
    close: () => undefined
  }

  const tunnel: DockerTunnel = {
    socketPath: '/fake/docker.sock',
    description: 'fake@manager:22',
    lastDialError: () => undefined,
    sshConnections: () => 1,
    traffic: () => ({ bytesRead, channels: 1, maxChannels: 1 }),
    close: async () => void effects.push('tunnel closed')
  }

  const adapters: Adapters = {
    dockerCli: () => cli,
    openTunnel: async () => {
      effects.push('connect')
      if (options.unreachable) throw new Error('ssh: cannot connect to deploy@manager:22: connect ECONNREFUSED')
      return tunnel
    },
    swarmApi: () => api,
    ecrToken: async region => {
      ecrRegions.push(region)
      effects.push('ecr token')
      return { username: 'AWS', password: 'ecr-token-password' }
    }
  }

  const files = new Map<string, string>()
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'sd-unit-'))
  // What is recorded as a leftover right now, and everything ever recorded.
  const leftovers = new Set<string>()
  const recorded: string[] = []
  // What a cancel would run now (RunLeftovers.cleanUp runs them newest first).
  const cancelHooks: Array<() => Promise<unknown>> = []
  const host: Host = {
    env: { HOME: scratch, PATH: '/usr/bin', ...options.env },
    leftovers: {
      path: file => {
        leftovers.add(file)
        recorded.push(file)
        return () => void leftovers.delete(file)
      },
      processGroup: () => () => undefined,
      onCancel: fn => {
        cancelHooks.push(fn)
        return () => {
          const at = cancelHooks.indexOf(fn)
          if (at >= 0) cancelHooks.splice(at, 1)
        }
      }
    },
    tempDir: scratch,
    files: {
      read: file => (files.has(path.normalize(file)) ? Buffer.from(files.get(path.normalize(file))!) : undefined),
      write: async (file, text) => void files.set(path.normalize(file), text),
      remove: async file => void files.delete(path.normalize(file))
    },
    now: () => clock,
    sleep: async ms => void (clock += ms),
    maxRssBytes: () => 42
  }

  return { adapters, host, files, effects, deployEnvs, deployedCompose, loginStdin, ecrRegions, leftovers, recorded, configs, cancelHooks, now: () => clock }
}

export const COMPOSE = `services:
  web:
    image: \${IMAGE}
    environment:
      DB_PASSWORD: \${DB_PASSWORD}
`

/** Signs the fake's release records: the target is the local engine, which has no ssh-key to derive one from. */
export const UNIT_RELEASE_KEY = 'unit-test-release-key-0123456789'

/** Inputs for a build-and-deploy to a local engine, with overrides. */
export function inputsFor(overrides: Partial<Inputs> = {}): Inputs {
  return {
    target: { kind: 'local' },
    stack: STACK,
    composeFiles: ['docker-compose.yml'],
    image: {
      repository: REPO,
      tags: ['v1', 'latest'],
      context: '.',
      dockerfile: './Dockerfile',
      buildArgs: new Map(),
      build: true,
      cache: { kind: 'auto', actionsCache: false },
      platforms: []
    },
    registry: { registry: 'registry.example.com:5000', username: 'ci', password: 'registry-pw' },
    env: new Map([['DB_PASSWORD', DB_PASSWORD]]),
    passthrough: [],
    timeoutMs: 60_000,
    prune: false,
    rollbackOnFailure: true,
    rollback: undefined,
    keepReleases: 10,
    onFailure: 'swarm',
    deployment: undefined,
    lockTimeoutMs: 300_000,
    releaseKey: [UNIT_RELEASE_KEY],
    ...overrides
  }
}

/** A record's data changed as this project would have written it: signed anew with the fake's key. */
export function rewrittenRecord(
  config: StoredConfig,
  change: (data: Record<string, unknown> & { services: Array<{ secrets: string[] }> }) => void
): StoredConfig {
  const data = JSON.parse(config.data.toString('utf8')) as Parameters<typeof change>[0]
  change(data)
  const bytes = Buffer.from(JSON.stringify(data))
  const status = config.labels['io.swarm-deploy.release.status'] as ReleaseStatus
  const { sign } = releaseKeysOf([UNIT_RELEASE_KEY], { kind: 'local' })
  return { ...config, data: bytes, labels: signedLabels(String(data.stack), Number(data.number), dataDigest(bytes), status, sign) }
}

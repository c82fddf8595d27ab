// One session with the swarm, for every entry point (the deploy, the
// refresh, `releases`, `unlock`, the post step): the run's work dir and
// docker CLI, the connection opened while the login (and the build) run, its
// log held back until the Connect phase, the engine check, the deploy lock
// if one is wanted, the Engine API that redacts what Swarm says back, and one
// teardown that undoes all of it in order.
import { failingOver } from './connect/failover-api.js'
import type { LockRequest } from './lock/run.js'
import { takeDeployLock } from './lock/run.js'
import type { HeldLock } from './lock/store.js'
import { reaching, UnreachableError } from './phases.js'
import type { Adapters, DockerCli, DockerTunnel, EngineFacts, Host, LocalTarget, Reporter, SshTarget, SwarmApi } from './ports.js'
import { redactSnapshot } from './secrets.js'
import type { Workdir } from './workdir.js'
import { createWorkdir } from './workdir.js'

export interface SessionDeps {
  host: Host
  adapters: Adapters
  reporter: Reporter
  /** Redacts Swarm's own text (task errors, update messages) as it arrives; without it the API is the adapter's as it is. */
  redact?: (text: string) => string
}

/** What exists on the runner before the swarm is reached: what the login and the build use. */
export interface Local {
  workdir: Workdir
  cli: DockerCli
}

export interface SessionOptions<P> {
  /** What runs while the connection opens (the registry login, the build); its result is the session's `prepared`. */
  login?: (local: Local) => Promise<P>
  /** The refresh: nothing reaches for the swarm before the new credential is known good. */
  connectAfterLogin?: boolean
  /** The deploy lock, taken right after the engine check. */
  lock?: LockRequest
  /** The CLI's sub-commands and the post step: no phases, and the session's own lines only at debug. */
  quiet?: boolean
}

export interface Session<P = undefined> extends Local {
  prepared: P
  tunnel: DockerTunnel
  api: SwarmApi
  /** The swarm's cluster ID, which keys secret version names. */
  clusterId: string
  lock: HeldLock | undefined
}

type Log = Pick<Reporter, 'info' | 'warn' | 'debug'>

/** A log that holds its lines until flush(), then passes them through. */
function deferredLog(reporter: Log): { log: Log; flush(): void } {
  let held: Array<[keyof Log, string]> | undefined = []
  const line = (kind: keyof Log) => (text: string) => (held ? held.push([kind, text]) : reporter[kind](text))
  return {
    log: { info: line('info'), warn: line('warn'), debug: line('debug') },
    flush() {
      const lines = held ?? []
      held = undefined
      for (const [kind, text] of lines) reporter[kind](text)
    }
  }
}

/**
 * Opens the session, runs `fn` in it and tears it down whatever happens: the
 * lock let go of (its line said), the API and the connection closed, the work
 * dir removed. What `fn` throws is thrown again once all that is done.
 */
export async function withSession<P, T>(
  target: SshTarget | LocalTarget,
  deps: SessionDeps,
  options: SessionOptions<P>,
  fn: (session: Session<P>) => Promise<T>
): Promise<T> {
  const { host, adapters, reporter } = deps
  const phase = options.quiet ? <R>(_title: string, run: () => Promise<R>) => run() : <R>(title: string, run: () => Promise<R>) => reporter.phase(title, run)
  const say = (line: string): void => (options.quiet ? reporter.debug(line) : reporter.info(line))
  const workdir = await createWorkdir(host.tempDir, host.env, host.leftovers)
  try {
    const cli = adapters.dockerCli(workdir.dockerConfig, host, reporter)
    // The SSH handshake needs neither the login nor the build: it runs while
    // they do, and its log lines wait for the Connect phase.
    const connectLog = deferredLog(reporter)
    let connecting: Promise<DockerTunnel> | undefined
    const connect = (): Promise<DockerTunnel> => {
      connecting ??= reaching(() => adapters.openTunnel(target, workdir.dockerSocket, connectLog.log, host))
      connecting.catch(() => undefined) // a failure is reported by the Connect phase, not as an unhandled rejection
      return connecting
    }
    if (!options.connectAfterLogin) void connect()
    let tunnel: DockerTunnel | undefined
    let prepared: P
    try {
      prepared = options.login ? await options.login({ workdir, cli }) : (undefined as P)
      tunnel = await phase('Connect', async () => {
        const opening = connect()
        connectLog.flush()
        const opened = await opening
        say(`Docker engine reached through ${opened.description}`)
        return opened
      })
    } finally {
      // The login or the build failed: the connection made meanwhile is not needed.
      if (tunnel === undefined)
        await connecting?.then(
          opened => opened.close(),
          () => undefined
        )
    }
    const opened = tunnel
    // A manager that stops serving mid-run (engine stopped, demoted) is left for the next: see src/connect/.
    const engine = failingOver(adapters.swarmApi(opened.socketPath), opened)
    const { redact } = deps
    const api: SwarmApi = redact
      ? { ...engine, snapshot: async (stack, serviceIds) => redactSnapshot(await engine.snapshot(stack, serviceIds), redact) }
      : engine
    let lock: HeldLock | undefined
    try {
      const clusterId = await phase('Check the target engine', () => checkManager(api, opened.lastDialError, say, opened.engine?.()))
      const wanted = options.lock
      // Before anything on the swarm changes, and before the releases are read: the last holder may have added one.
      if (wanted) lock = await phase('Take the deploy lock', () => takeDeployLock(api, wanted, host, reporter))
      return await fn({ workdir, cli, prepared, tunnel: opened, api, clusterId, lock })
    } finally {
      await lock?.release().then(({ level, message }) => reporter[level](message))
      api.close()
      await opened.close()
    }
  } finally {
    await workdir.remove()
  }
}

/**
 * The engine is a swarm manager: returns the swarm's cluster ID, which keys secret version names.
 * `known`: the engine's /info as the connection read it, which spares asking again.
 */
export async function checkManager(api: SwarmApi, lastDialError: () => string | undefined, say: (line: string) => void, known?: EngineFacts): Promise<string> {
  let info
  try {
    info = known?.clusterId === undefined ? await api.info() : { ...known, clusterId: known.clusterId }
  } catch (error) {
    const far = lastDialError()
    throw new UnreachableError(`cannot reach the Docker engine: ${far ?? (error as Error).message}`)
  }
  if (!info.isManager) {
    throw new Error(`the Docker engine (version ${info.serverVersion}, swarm state ${info.swarmState}) is not a swarm manager: point host at a manager node`)
  }
  if (info.clusterId === undefined) throw new Error(`the Docker engine (version ${info.serverVersion}) is a swarm manager but gave no cluster ID`)
  say(`Docker ${info.serverVersion}, swarm manager`)
  return info.clusterId
}

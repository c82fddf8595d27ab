// Which manager serves: each address of `host` in turn, each bounded by
// connect-timeout, until one completes SSH with a pinned host key and its
// engine answers as a swarm manager. When the connection drops, the next
// manager that answers takes over, with backoff between handshakes so that a
// refusing sshd sees at most one a second, and fewer as failures go on. A
// reconnect must reach the swarm of the first connection (its cluster ID).
// A manager that still answers SSH but cannot serve (its engine stopped, it
// was demoted) is let go of the same way: the next one takes over.
import * as http from 'node:http'
import type { Socket } from 'node:net'
import type { NodeSSH } from 'node-ssh'
import type { ClientChannel } from 'ssh2'
import type { EngineFacts, HostPort, Reporter, SshTarget } from '../ports.js'
import { nextManagerIndex, noManagerReason, troubleOf, troubleReason } from './manager-trouble.js'
import { dialReason } from './ssh-errors.js'

type Log = Pick<Reporter, 'info' | 'warn' | 'debug'>

export const DIAL_COMMAND = 'docker system dial-stdio'
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

/** A manager that could not be used, and why. */
export class ManagerError extends Error {
  override name = 'ManagerError'
  constructor(
    readonly reason: string,
    message: string
  ) {
    super(message)
  }
}

/**
 * A manager of another swarm than the run's first connection. Swarm does
 * not stop an address of `host` from pointing at another cluster (a
 * rebuilt node, a DNS name moved, someone's machine in the middle with a
 * key the run trusts), and a reconnect that went there would deploy, read
 * releases and take the lock in the wrong swarm.
 */
export class ForeignSwarm extends ManagerError {
  override name = 'ForeignSwarm'
}

/** The swarm of the run's first connection, which every reconnect must reach. */
export interface SwarmPin {
  clusterId: string
  /** The manager it was read from, for the message. */
  manager: HostPort
}

export function managersOf(target: SshTarget): HostPort[] {
  return target.managers && target.managers.length > 0 ? target.managers : [{ host: target.host, port: target.port }]
}

export function connectTimeoutOf(target: SshTarget): number {
  return target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
}

type Info = { ServerVersion?: string; Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; Error?: string; Cluster?: { ID?: string } | null } }

function factsOf(info: Info): EngineFacts {
  return {
    serverVersion: info.ServerVersion ?? 'unknown',
    isManager: info.Swarm?.ControlAvailable === true,
    swarmState: info.Swarm?.LocalNodeState ?? 'unknown',
    ...(info.Swarm?.Cluster?.ID ? { clusterId: info.Swarm.Cluster.ID } : {}),
    ...(info.Swarm?.Error ? { swarmError: info.Swarm.Error } : {})
  }
}

export interface Probed {
  engine: EngineFacts
  /** The channel, still open on a live engine connection (HTTP/1.1 keep-alive): the tunnel's first spare. */
  channel?: ClientChannel
}

/**
 * `GET /info` over one `dial-stdio` channel, read by Node's HTTP client.
 * Keep-alive: once answered, the channel is a live engine connection that
 * the tunnel keeps as a spare, so the check costs no session of its own on
 * the manager (each one starts a shell there).
 */
export function probeEngine(ssh: NodeSSH, user: string, timeoutMs: number): Promise<Probed> {
  return new Promise((resolve, reject) => {
    const client = ssh.connection
    if (!client) return reject(new ManagerError('the SSH connection closed', 'the SSH connection closed'))
    let settled = false
    let stderr = ''
    let opened: ClientChannel | undefined
    const fail = (reason: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opened?.destroy()
      reject(new ManagerError(reason, reason))
    }
    const timer = setTimeout(() => fail(`its Docker engine did not answer within ${timeoutMs / 1000}s`), timeoutMs)
    client.exec(DIAL_COMMAND, (error, channel) => {
      if (error) return fail(`the manager refused to run ${DIAL_COMMAND}: ${error.message}`)
      if (settled) return channel.destroy()
      opened = channel
      channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
      let facts: EngineFacts | undefined
      const request = http.request(
        { createConnection: () => channel as unknown as Socket, path: '/info', headers: { Host: 'docker', Connection: 'keep-alive' } },
        response => {
          const chunks: Buffer[] = []
          response.on('data', (chunk: Buffer) => chunks.push(chunk))
          response.on('end', () => {
            if (response.statusCode !== 200) return
            try {
              facts = factsOf(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Info)
            } catch {
              fail('its Docker engine answered /info with something that is not JSON')
            }
          })
        }
      )
      // The HTTP client lets go of the channel here: open still if the engine kept the connection.
      request.on('close', () => {
        if (settled) return
        if (!facts) return fail(dialReason(stderr, user))
        settled = true
        clearTimeout(timer)
        channel.pause()
        const live = !channel.destroyed && channel.readable && channel.writable
        if (!live) channel.destroy()
        resolve({ engine: facts, ...(live ? { channel } : {}) })
      })
      request.on('error', () => undefined) // the close that follows says why
      request.end()
    })
  })
}

export interface Reached {
  ssh: NodeSSH
  /** Index in managersOf(target). */
  index: number
  engine: EngineFacts | undefined
}

export interface ReachOptions {
  /** Opens SSH to one manager (the target with that host and port). */
  open: (target: SshTarget) => Promise<NodeSSH>
  /** Check the engine answers as a swarm manager (off in tests of the channels alone). */
  probe: boolean
  /** Takes the check's channel when it is still open (else undefined), for the tunnel to keep as a spare. */
  adopt?: (ssh: NodeSSH, channel: ClientChannel | undefined) => void
}

/** One manager: SSH, then its engine, together within connect-timeout; with `pin`, only a manager of that swarm. */
export async function tryManager(target: SshTarget, index: number, log: Log, options: ReachOptions, pin?: SwarmPin): Promise<Reached> {
  const manager = managersOf(target)[index]!
  const one: SshTarget = { ...target, host: manager.host, port: manager.port }
  const timeoutMs = connectTimeoutOf(target)
  const started = Date.now()
  const ssh = await options.open(one)
  if (!options.probe) return { ssh, index, engine: undefined }
  try {
    const { engine, channel } = await probeEngine(ssh, target.user, Math.max(1000, timeoutMs - (Date.now() - started)))
    if (!engine.isManager) {
      channel?.destroy()
      throw new ManagerError(`not a swarm manager (Docker ${engine.serverVersion}, swarm state ${engine.swarmState})`, 'not a manager')
    }
    // A manager of a swarm with no leader gives no cluster ID either: that is not another swarm.
    if (troubleOf(engine.swarmError ?? '') === 'no-quorum') {
      channel?.destroy()
      throw new ManagerError(troubleReason('no-quorum'), troubleReason('no-quorum'))
    }
    // The cluster IDs stay out of the message: they key the secret version names (plan.ts, secretKeyOf).
    if (pin && engine.clusterId !== pin.clusterId) {
      channel?.destroy()
      const first = `${pin.manager.host}:${pin.manager.port}, which this run connected to first`
      const reason =
        engine.clusterId === undefined
          ? `it gave no cluster ID, so nothing shows it belongs to the swarm of ${first}`
          : `it belongs to another swarm than ${first} (their cluster IDs differ)`
      throw new ForeignSwarm(reason, `Refused manager ${manager.host}:${manager.port}: ${reason}`)
    }
    log.debug(`Docker ${engine.serverVersion} on ${manager.host}:${manager.port} is a swarm manager`)
    if (options.adopt) options.adopt(ssh, channel)
    else channel?.destroy()
    return { ssh, index, engine }
  } catch (error) {
    ssh.dispose()
    throw error
  }
}

function reasonOf(error: unknown): string {
  const reason = (error as { reason?: unknown }).reason
  return typeof reason === 'string' ? reason : (error as Error).message
}

/**
 * The first manager, in order, that completes SSH and answers as a swarm
 * manager. With one address its own error is thrown as it is; with several,
 * one error names each address and its reason.
 */
export async function reachManager(target: SshTarget, log: Log, options: ReachOptions): Promise<Reached> {
  const managers = managersOf(target)
  const skipped: string[] = []
  for (let index = 0; index < managers.length; index++) {
    const { host, port } = managers[index]!
    try {
      const reached = await tryManager(target, index, log, options)
      if (managers.length > 1) log.info(`Manager ${host}:${port} serves this deploy${skipped.length > 0 ? ` (skipped: ${skipped.join('; ')})` : ''}`)
      return reached
    } catch (error) {
      if (managers.length === 1) {
        if (error instanceof ManagerError) throw new ManagerError(error.reason, `ssh: ${target.user}@${host}:${port}: ${error.reason}. Nothing was deployed.`)
        throw error
      }
      const reason = reasonOf(error)
      log.info(`Manager ${host}:${port} skipped: ${reason}`)
      skipped.push(`${host}:${port} ${reason}`)
    }
  }
  throw new ManagerError('no manager answered', `ssh: no swarm manager could be reached: ${skipped.join('; ')}. Nothing was deployed.`)
}

/** Backoff between reconnect attempts: 1 s, 2 s, 4 s … up to 16 s; never two handshakes within a second. */
export const BACKOFF = { firstMs: 1_000, capMs: 16_000, minGapMs: 1_000 }

export function backoffMs(failures: number): number {
  if (failures <= 0) return 0
  return Math.min(BACKOFF.capMs, BACKOFF.firstMs * 2 ** (failures - 1))
}

export interface LinkOptions extends ReachOptions {
  now?: () => number
  onConnection?: (ssh: NodeSSH) => void
}

/**
 * The one live SSH connection to a manager. After a drop it reconnects on
 * demand, trying the managers in turn from the one after the lost one; a
 * caller that asks while the backoff runs is told at once, so a poll that
 * fails costs no handshake.
 */
export class ManagerLink {
  private current: NodeSSH | undefined
  private index: number
  private pending: Promise<NodeSSH> | undefined
  private failures = 0
  private lastAttemptAt = -Infinity
  private notBefore = 0
  private lostNoted = false
  /** Why each manager tried since the connection was lost could not serve. */
  private streak: Array<{ manager: string; reason: string }> = []
  private readonly now: () => number
  private readonly pin: SwarmPin | undefined

  constructor(
    private readonly target: SshTarget,
    first: Reached,
    private readonly log: Log,
    private readonly options: LinkOptions
  ) {
    this.now = options.now ?? Date.now
    this.index = first.index
    const clusterId = first.engine?.clusterId
    this.pin = clusterId === undefined ? undefined : { clusterId, manager: managersOf(target)[first.index]! }
    this.adopt(first.ssh)
  }

  private adopt(ssh: NodeSSH): void {
    this.current = ssh
    ssh.connection?.once('close', () => {
      if (this.current === ssh) this.current = undefined
    })
  }

  connection(): Promise<NodeSSH> {
    if (this.current?.connection) return Promise.resolve(this.current)
    if (this.pending) return this.pending
    const managers = managersOf(this.target)
    if (!this.lostNoted) {
      this.lostNoted = true
      this.log.info(`SSH connection to ${managers[this.index]!.host}:${managers[this.index]!.port} lost; reconnecting`)
    }
    const now = this.now()
    const at = Math.max(this.notBefore, this.lastAttemptAt + BACKOFF.minGapMs)
    if (now < at) return Promise.reject(new Error(`the SSH connection to the manager was lost; reconnecting (backing off)`))
    this.lastAttemptAt = now
    // The manager after the lost one first: the lost one may be what went away.
    const index = nextManagerIndex(this.index, this.failures, managers.length)
    const { host, port } = managers[index]!
    this.pending = tryManager(this.target, index, this.log, this.options, this.pin).then(
      reached => {
        this.pending = undefined
        this.failures = 0
        this.notBefore = 0
        this.lostNoted = false
        this.streak = []
        this.index = reached.index
        this.options.onConnection?.(reached.ssh)
        this.adopt(reached.ssh)
        this.log.info(`SSH reconnected through ${this.target.user}@${host}:${port}`)
        return reached.ssh
      },
      (error: unknown) => {
        this.pending = undefined
        this.failures += 1
        const wait = backoffMs(this.failures)
        this.notBefore = this.now() + wait
        if (error instanceof ForeignSwarm) this.log.warn(error.message)
        this.streak = [...this.streak.filter(one => one.manager !== `${host}:${port}`), { manager: `${host}:${port}`, reason: reasonOf(error) }]
        this.log.info(`Reconnect through ${host}:${port} failed: ${reasonOf(error)}; next attempt in ${wait / 1000}s`)
        throw error
      }
    )
    return this.pending
  }

  /**
   * Let go of the connection to the manager serving now, which answers SSH
   * but cannot serve (`reason`); the next dial goes on through another
   * manager. With one manager there is no other: its connection is kept.
   */
  abandon(reason: string, ssh: NodeSSH | undefined = this.current): void {
    const managers = managersOf(this.target)
    if (ssh === undefined || this.current !== ssh || managers.length === 1) return
    const { host, port } = managers[this.index]!
    this.current = undefined
    this.lostNoted = true
    this.streak = [{ manager: `${host}:${port}`, reason }]
    this.log.info(`Manager ${host}:${port} cannot serve: ${reason}; going on through another manager`)
    ssh.dispose()
  }

  /** Why no manager serves, while the link is reconnecting; undefined when connected. */
  trouble(): string | undefined {
    if (this.current?.connection || this.streak.length === 0) return undefined
    return noManagerReason(this.streak, managersOf(this.target).length)
  }

  /** The manager serving now, for logs. */
  serving(): HostPort {
    return managersOf(this.target)[this.index]!
  }
}

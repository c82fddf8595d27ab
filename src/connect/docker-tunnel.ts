// One way to reach the target Docker engine for the whole run: a private unix
// socket on the runner, each connection to it carried by `docker system
// dial-stdio` at the other end. Over SSH that is one more channel on the one
// connection (what the docker CLI's ssh:// transport does, so the manager's
// DOCKER_HOST or context is honoured); without a host it is a local child.
// Both the runner's docker CLI and the API client use this socket.
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import * as net from 'node:net'
import { Duplex } from 'node:stream'
import { NodeSSH } from 'node-ssh'
import type { ClientChannel } from 'ssh2'
import { childEnvironment } from '../docker-cli.js'
import type { DockerTunnel, EngineFacts, Leftovers, Reporter, SshTarget, TunnelTraffic } from '../ports.js'
import { checkHostKey, fingerprint, hostKeyAlgorithms, parseKnownHosts } from './known-hosts.js'
import { connectReason } from './ssh-errors.js'
import { DIAL_COMMAND, ManagerLink, reachManager } from './managers.js'

export { DIAL_COMMAND }

/** Opens one byte stream to the Docker engine. */
type Dial = () => Promise<Duplex>

const CONNECT_TIMEOUT_MS = 10_000
/** For the manager to open a `dial-stdio` channel on a live connection. */
const CHANNEL_TIMEOUT_MS = 20_000

export interface TunnelOptions {
  channelTimeoutMs?: number
  /** Without a host: the environment the local `docker system dial-stdio` children are started from (childEnvironment of it). */
  env?: Readonly<Record<string, string | undefined>>
  /** Where those children's process groups are recorded. */
  leftovers?: Leftovers
  /** Check that the engine is a swarm manager before using a connection (default true). */
  probe?: boolean
  maxChannels?: number
  /** Channels kept open ahead of time (default SPARE_CHANNELS). */
  spareChannels?: number
}

type Log = Pick<Reporter, 'info' | 'warn' | 'debug'>

/** The SSH connection could not be used; `reason` says why in a few words. */
export class SshConnectError extends Error {
  override name = 'SshConnectError'
  constructor(
    readonly reason: string,
    message: string
  ) {
    super(message)
  }
}

/** `user@host:port`, for logs. */
export function where(target: Pick<SshTarget, 'user' | 'host' | 'port'>): string {
  return `${target.user}@${target.host}:${target.port}`
}

/**
 * The TCP connection to sshd, with Nagle's algorithm off. ssh2 leaves it on:
 * then each small write (an auth step, an HTTP request in a channel) waits
 * for the ACK of the one before, which the far end delays by up to 40 ms, so
 * every round trip cost about 45 ms on the lab instead of 1 ms (DEVELOPERS.md).
 */
function tcpSocket(host: string, port: number): net.Socket {
  return net.connect({ host, port, noDelay: true })
}

export async function openSsh(target: SshTarget, log: Log): Promise<NodeSSH> {
  const entries = target.knownHosts === undefined ? undefined : parseKnownHosts(target.knownHosts)
  const algorithms = entries && hostKeyAlgorithms(entries, target.host, target.port)
  if (entries && algorithms?.length === 0) {
    const reason = `known-hosts has no key for ${target.host} port ${target.port}: add the line ssh-keyscan -p ${target.port} ${target.host} prints`
    throw new SshConnectError(reason, reason)
  }
  const timeoutMs = target.connectTimeoutMs ?? CONNECT_TIMEOUT_MS
  const started = Date.now()
  const through = target.jump ? await openJump(target, log, timeoutMs) : undefined
  let refusal: string | undefined
  let seen: string | undefined
  const ssh = new NodeSSH()
  const sock = through?.sock ?? tcpSocket(target.host, target.port)
  try {
    await ssh.connect({
      host: target.host,
      port: target.port,
      sock: sock as never,
      username: target.user,
      // Straight to the key: the `none` attempt OpenSSH and ssh2 begin with costs a round trip and can only fail.
      authHandler: ['publickey'],
      privateKey: target.privateKey,
      ...(target.passphrase === undefined ? {} : { passphrase: target.passphrase }),
      readyTimeout: Math.max(1000, timeoutMs - (Date.now() - started)),
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      ...(algorithms ? { algorithms: { serverHostKey: algorithms as never } } : {}),
      hostVerifier: (key: Buffer) => {
        seen = fingerprint(key)
        if (entries === undefined) return true
        const decision = checkHostKey(entries, target.host, target.port, key)
        if (!decision.ok) refusal = decision.reason
        return decision.ok
      }
    })
  } catch (error) {
    ssh.dispose()
    sock.destroy()
    through?.jump.dispose()
    if (refusal) throw new SshConnectError(refusal, `ssh: ${refusal}. Nothing was deployed.`)
    const reason = connectReason(error as Error, target.user, timeoutMs)
    throw new SshConnectError(reason, `ssh: cannot connect to ${where(target)}: ${reason}`)
  }
  // node-ssh stops listening for errors once connected. Without a listener a
  // dropped connection (write EPIPE, ECONNRESET) would crash the action
  // instead of closing; closed, the next dial reconnects.
  ssh.connection?.on('error', error => log.info(`SSH connection to ${target.host}: ${error.message}`))
  // The jump connection lives exactly as long as the one it carries.
  if (through) ssh.connection?.once('close', () => through.jump.dispose())
  if (entries === undefined) {
    log.warn(
      `insecure-ignore-host-key is true: the host key of ${target.host} (${seen}) was NOT verified. Anyone on the network path could impersonate the manager and receive your secrets. Set known-hosts.`
    )
  } else {
    log.info(`Host key ${seen} of ${target.host} matches known-hosts`)
  }
  return ssh
}

/**
 * SSH to the jump host, verified against jump-known-hosts, then a forwarded
 * TCP stream from it to the manager (ssh2's forwardOut, what `ssh -J` does):
 * no ssh binary or config on the runner is used.
 */
async function openJump(target: SshTarget, log: Log, timeoutMs: number): Promise<{ jump: NodeSSH; sock: Duplex }> {
  const started = Date.now()
  const j = target.jump!
  const hop: SshTarget = {
    kind: 'ssh',
    host: j.host,
    port: j.port,
    user: j.user,
    privateKey: j.privateKey,
    passphrase: j.passphrase,
    knownHosts: j.knownHosts,
    insecureIgnoreHostKey: target.insecureIgnoreHostKey,
    connectTimeoutMs: timeoutMs
  }
  const hopName = `jump host ${where(hop)}`
  let jump: NodeSSH
  try {
    jump = await openSsh(hop, log)
  } catch (error) {
    const reason = (error instanceof SshConnectError ? error.reason : (error as Error).message).replace(/ known-hosts\b/, ' jump-known-hosts')
    throw new SshConnectError(`${hopName}: ${reason}`, `ssh: ${hopName}: ${reason}. Nothing was deployed.`)
  }
  const client = jump.connection!
  try {
    // What is left of connect-timeout after the handshake with the jump host.
    const leftMs = Math.max(1000, timeoutMs - (Date.now() - started))
    const sock = await new Promise<Duplex>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not connect within ${leftMs / 1000}s`)), leftMs)
      client.forwardOut('127.0.0.1', 0, target.host, target.port, (error, stream) => {
        clearTimeout(timer)
        if (error) reject(error)
        else resolve(stream)
      })
    })
    log.info(`Through ${hopName} to ${target.host}:${target.port}`)
    return { jump, sock }
  } catch (error) {
    jump.dispose()
    const reason = `${hopName} could not open a connection to ${target.host}:${target.port}: ${(error as Error).message}`
    throw new SshConnectError(reason, `ssh: ${reason}`)
  }
}

/**
 * At most this many channels open at once on the one connection, whatever
 * the stack size: OpenSSH's default MaxSessions is 10, and a channel just
 * closed by us may not be closed on the manager yet.
 */
export const MAX_CHANNELS = 8

/** Waiters for a channel slot, first come first served. */
class ChannelSlots {
  private open = 0
  private peak = 0
  private readonly waiting: Array<() => void> = []

  constructor(private readonly limit: number) {}

  /** Take a slot; the function returned gives it back (once, however often it is called). */
  private take(): () => void {
    this.open += 1
    this.peak = Math.max(this.peak, this.open)
    let released = false
    return () => {
      if (released) return
      released = true
      this.open -= 1
      this.waiting.shift()?.()
    }
  }

  acquire(timeoutMs: number): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        clearTimeout(timer)
        resolve(this.take())
      }
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(grant)
        if (at >= 0) this.waiting.splice(at, 1)
        reject(new Error(`ssh: all ${this.limit} channels to the manager stayed busy for ${timeoutMs / 1000} s`))
      }, timeoutMs)
      if (this.open < this.limit) grant()
      else this.waiting.push(grant)
    })
  }

  /** A slot only if one is free now: a spare channel must never keep a request waiting. */
  tryAcquire(): (() => void) | undefined {
    return this.open < this.limit && this.waiting.length === 0 ? this.take() : undefined
  }

  max(): number {
    return this.peak
  }
}

/**
 * End a stream whose output nobody will read. An SSH channel reports its
 * close only once its output has been read to the end, so that output is
 * drained (and dropped); without it the channel's slot would stay taken.
 */
function endUnread(stream: Duplex): void {
  stream.unpipe()
  stream.resume()
  stream.destroy()
}

const PING = 'HEAD /_ping HTTP/1.1\r\nHost: docker\r\n\r\n'

/**
 * One `HEAD /_ping` through a new channel, its answer read and dropped: a HEAD
 * answer is headers alone. The engine keeps the connection open (HTTP/1.1),
 * so whoever takes the channel next starts on a live connection.
 */
function warmUp(channel: ClientChannel): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk])
      const end = seen.indexOf('\r\n\r\n')
      if (end < 0) return
      channel.off('data', onData)
      channel.off('close', onClose)
      channel.pause()
      if (!/^HTTP\/1\.[01] 2\d\d /.test(seen.toString('latin1'))) return reject(new Error('the engine did not answer the ping'))
      const rest = seen.subarray(end + 4)
      if (rest.length > 0) channel.unshift(rest)
      resolve()
    }
    const onClose = (): void => reject(new Error('closed'))
    channel.on('data', onData)
    channel.once('close', onClose)
    channel.write(PING)
  })
}

/** A channel opened ahead of time on one connection, for the next dial. */
interface Spare {
  ssh: NodeSSH
  /** The channel, or why the manager did not open it. */
  channel: Promise<ClientChannel | Error>
  /** Its dial-stdio has answered: a dial takes it before one still starting. */
  ready: boolean
  /** Closed (or never opened): not to be handed out. */
  gone: boolean
}

interface SshDialer {
  dial: Dial
  /** Open spare channels on this connection, up to `upTo` (the number kept) and while slots are free. */
  prepare(ssh: NodeSSH, upTo?: number): void
  /** Keep a channel already open on a live engine connection (the engine check's) as a spare. */
  adopt(ssh: NodeSSH, channel: ClientChannel): void
  close(): void
}

/**
 * Spare channels kept open ahead of time. Before the deploy, the API client's
 * connection and the docker CLI's each need one, back to back; once one is
 * taken the next takes as long to start as the first did.
 */
export const SPARE_CHANNELS = 2

/**
 * Channels on one SSH connection. If the connection drops (sshd restarted,
 * network blip), the link reconnects through the next manager that answers,
 * verified like the first; requests in flight fail and the watcher retries them.
 *
 * Starting `docker system dial-stdio` on the manager takes longer than a
 * request through it, so channels are kept open ahead of time: each
 * connection (the API client's, the docker CLI's deploy, a second poll
 * request) takes one at once and another starts meanwhile. Spares take only
 * free slots and close with the tunnel.
 */
function sshDialer(
  link: () => ManagerLink,
  slots: ChannelSlots,
  onError: (text: string) => void,
  channelTimeoutMs: number,
  keep: number = SPARE_CHANNELS
): SshDialer {
  let spares: Spare[] = []
  let closed = false

  /**
   * One channel on `ssh`; it holds `release` until it closes. A spare is
   * warmed up: it counts as open once its dial-stdio has answered a ping, since
   * sshd accepts the exec long before the command runs (the user's shell
   * starts first, and reads its rc files).
   */
  const open = (ssh: NodeSSH, release: () => void, spare: boolean): Promise<ClientChannel> =>
    new Promise((resolve, reject) => {
      const client = ssh.connection
      if (!client) {
        release()
        return reject(new Error('ssh connection is closed'))
      }
      let late = false
      let opened: ClientChannel | undefined
      const timer = setTimeout(() => {
        late = true
        release()
        opened?.close()
        const { host } = link().serving()
        reject(new Error(`ssh: ${host} did not open a channel for ${DIAL_COMMAND} within ${channelTimeoutMs / 1000} s`))
      }, channelTimeoutMs)
      // Nobody waits for a spare: its timer must not hold the process open.
      if (spare) timer.unref()
      client.exec(DIAL_COMMAND, (error, channel) => {
        if (late) {
          // Nobody waits for it any more: close it rather than leave it open on the manager.
          channel?.close()
          return
        }
        if (error) {
          clearTimeout(timer)
          release()
          return reject(error)
        }
        opened = channel
        channel.on('close', release)
        let stderr = ''
        channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
        channel.on('exit', (code: number | null) => {
          if (code !== 0 && stderr.trim() !== '') onError(stderr.trim())
        })
        if (!spare) {
          clearTimeout(timer)
          return resolve(channel)
        }
        warmUp(channel).then(
          () => {
            clearTimeout(timer)
            if (!late) resolve(channel)
          },
          () => {
            clearTimeout(timer)
            reject(new Error(stderr.trim() || `${DIAL_COMMAND} on the manager ended before its engine answered`))
          }
        )
      })
    })

  const unlist = (entry: Spare): void => {
    spares = spares.filter(other => other !== entry)
  }

  const discard = (entry: Spare): void => {
    entry.gone = true
    unlist(entry)
    void entry.channel.then(channel => (channel instanceof Error ? undefined : endUnread(channel)))
  }

  /** List a spare: ready once `channel` resolves, gone once it closes, or ends unused. */
  const enlist = (ssh: NodeSSH, channel: Promise<ClientChannel>): void => {
    const entry: Spare = { ssh, ready: false, gone: false, channel: Promise.resolve(new Error('not opened')) }
    const gone = (): void => {
      entry.gone = true
      unlist(entry)
    }
    entry.channel = channel.then(
      channel => {
        entry.ready = true
        channel.once('close', gone)
        // dial-stdio ended before anyone used it (its engine restarted, say). Nothing
        // reads its output, so its close would never come: end it here, which frees the slot.
        channel.once('exit', () => {
          if (spares.includes(entry)) {
            gone()
            endUnread(channel)
          }
        })
        return channel
      },
      (error: Error) => {
        gone()
        return error
      }
    )
    spares.push(entry)
  }

  const prepare = (ssh: NodeSSH, upTo: number = keep): void => {
    while (!closed && spares.length < upTo && ssh.connection) {
      const release = slots.tryAcquire()
      if (!release) return
      enlist(ssh, open(ssh, release, true))
    }
  }

  const adopt = (ssh: NodeSSH, channel: ClientChannel): void => {
    const release = closed || spares.length >= keep ? undefined : slots.tryAcquire()
    if (!release) return endUnread(channel)
    channel.on('close', release)
    enlist(ssh, Promise.resolve(channel))
  }

  const dial: Dial = async () => {
    const ssh = await link().connection()
    for (const stale of spares.filter(entry => entry.ssh !== ssh)) discard(stale)
    // One already open before one still starting: a dial never waits while another is ready.
    const entry = spares.find(spare => spare.ready) ?? spares[0]
    if (entry) {
      unlist(entry)
      // The next one starts while this one finishes opening.
      prepare(ssh)
      const channel = await entry.channel
      // A channel the manager refused or did not open in time is this dial's answer; one that closed since is replaced.
      if (channel instanceof Error) throw channel
      if (!entry.gone) return channel
    }
    const release = await slots.acquire(channelTimeoutMs)
    const channel = await open(ssh, release, false)
    prepare(ssh)
    return channel
  }

  return {
    dial,
    prepare,
    adopt,
    close() {
      closed = true
      for (const entry of [...spares]) discard(entry)
    }
  }
}

function localDial(onError: (text: string) => void, children: Set<ChildProcess>, options: TunnelOptions): Dial {
  return async () => {
    const [command, ...args] = DIAL_COMMAND.split(' ')
    // Like every docker child: a minimal environment (the user's own DOCKER_CONFIG and context are kept), its own process group.
    const child = spawn(command!, args, { stdio: ['pipe', 'pipe', 'pipe'], env: childEnvironment(options.env ?? process.env), detached: true })
    if (child.pid !== undefined && options.leftovers) child.on('exit', options.leftovers.processGroup(child.pid))
    children.add(child)
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.on('error', error => onError(`cannot run docker: ${error.message}`))
    child.on('exit', code => {
      children.delete(child)
      if (code !== 0 && stderr.trim() !== '') onError(stderr.trim())
    })
    const stream = Duplex.from({ readable: child.stdout, writable: child.stdin })
    // A dropped client connection must end its dial-stdio process too.
    stream.on('close', () => child.kill())
    return stream
  }
}

/** Serve `socketPath`, dialling the engine once per accepted connection. */
async function serve(socketPath: string, dial: Dial, log: Log): Promise<{ close(): Promise<void>; traffic: TunnelTraffic }> {
  const open = new Set<net.Socket>()
  const traffic: TunnelTraffic = { bytesRead: 0, channels: 0, maxChannels: 0 }
  const server = net.createServer(local => {
    open.add(local)
    local.on('close', () => open.delete(local))
    dial().then(
      remote => {
        // The client went away while the channel opened: nothing will use or close it.
        if (local.destroyed) {
          remote.destroy()
          return
        }
        traffic.channels += 1
        traffic.maxChannels = Math.max(traffic.maxChannels, traffic.channels)
        remote.once('close', () => (traffic.channels -= 1))
        remote.on('data', (chunk: Buffer) => (traffic.bytesRead += chunk.length))
        local.pipe(remote)
        remote.pipe(local)
        const closeBoth = (): void => {
          local.destroy()
          remote.destroy()
        }
        local.on('error', closeBoth)
        remote.on('error', closeBoth)
        remote.on('close', () => local.end())
        // Gone for good: nothing reads the channel any more, and an SSH channel whose
        // output nobody reads never reports its close, which would keep its slot taken.
        local.on('close', () => endUnread(remote))
      },
      (error: Error) => {
        log.debug(`dial failed: ${error.message}`)
        local.destroy()
      }
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolve())
  })
  return {
    traffic,
    // Idle keep-alive connections would hold close() open forever.
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve())
        for (const socket of open) socket.destroy()
      })
  }
}

export async function openTunnel(target: SshTarget | { kind: 'local' }, socketPath: string, log: Log, options: TunnelOptions = {}): Promise<DockerTunnel> {
  let lastError: string | undefined
  let closed = false
  const onError = (text: string): void => {
    lastError = text
  }
  // Everything opened, so that close() ends it all and no handle keeps the process alive.
  const opened: NodeSSH[] = []
  const children = new Set<ChildProcess>()
  const slots = new ChannelSlots(options.maxChannels ?? MAX_CHANNELS)
  let link: ManagerLink | undefined
  let engine: EngineFacts | undefined
  const dialer = sshDialer(() => link!, slots, onError, options.channelTimeoutMs ?? CHANNEL_TIMEOUT_MS, options.spareChannels ?? SPARE_CHANNELS)
  if (target.kind === 'ssh') {
    const probe = options.probe ?? true
    const open = async (one: SshTarget): Promise<NodeSSH> => {
      const ssh = await openSsh(one, log)
      // The first spare starts while the engine is checked on another channel, which becomes the second.
      dialer.prepare(ssh, probe ? (options.spareChannels ?? SPARE_CHANNELS) - 1 : undefined)
      return ssh
    }
    const adopt = (ssh: NodeSSH, channel: ClientChannel | undefined): void => (channel ? dialer.adopt(ssh, channel) : dialer.prepare(ssh))
    const reach = { open, probe, adopt }
    const first = await reachManager(target, log, reach)
    engine = first.engine
    opened.push(first.ssh)
    const onConnection = (ssh: NodeSSH): void => {
      // A reconnect that finishes after close() must not outlive it.
      if (closed) ssh.dispose()
      else opened.push(ssh)
    }
    link = new ManagerLink(target, first, log, { ...reach, onConnection })
  }
  const dial = link ? dialer.dial : localDial(onError, children, options)
  const release = (): void => {
    closed = true
    dialer.close()
    for (const ssh of opened) ssh.dispose()
    for (const child of children) child.kill()
  }
  let server: { close(): Promise<void>; traffic: TunnelTraffic }
  try {
    server = await serve(socketPath, dial, log)
  } catch (error) {
    release()
    throw new Error(`cannot open the local Docker socket ${socketPath}: ${(error as Error).message}`)
  }
  const describe = (): string => {
    if (!link || target.kind !== 'ssh') return "the runner's Docker engine"
    const { host, port } = link.serving()
    return `${target.user}@${host}:${port}`
  }
  return {
    socketPath,
    get description() {
      return describe()
    },
    lastDialError: () => lastError,
    sshConnections: () => opened.length,
    traffic: () => ({ ...server.traffic }),
    engine: () => engine,
    close: async () => {
      await server.close()
      release()
    }
  }
}

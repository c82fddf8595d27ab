// One way to reach the target Docker engine for the whole run: a private unix
// socket on the runner, each connection to it carried by `docker system
// dial-stdio` at the other end. Over SSH that is one more channel on the one
// connection (what the docker CLI's ssh:// transport does, so the manager's
// DOCKER_HOST or context is honoured); without a host it is a local child.
// Both the runner's docker CLI and the API client use this socket.
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { Duplex } from 'node:stream'
import type { NodeSSH } from 'node-ssh'
import type { ClientChannel } from 'ssh2'
import { childEnvironment } from '../docker-cli.js'
import type { DockerTunnel, EngineFacts, Leftovers, LocalTarget, Reporter, SshTarget, TunnelTraffic } from '../ports.js'
import type { Dial } from './channel-pool.js'
import { ChannelSlots, MAX_CHANNELS, SPARE_CHANNELS, sshDialer } from './channel-pool.js'
import { DIAL_COMMAND, ManagerLink, reachManager } from './managers.js'
import { serve } from './socket-server.js'
import { openSsh } from './ssh.js'

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

export async function openTunnel(target: SshTarget | LocalTarget, socketPath: string, log: Log, options: TunnelOptions = {}): Promise<DockerTunnel> {
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
    failover: reason => link?.abandon(reason),
    trouble: () => link?.trouble(),
    close: async () => {
      await server.close()
      release()
    }
  }
}

// The SSH connection to a manager, verified against known-hosts, and the jump
// host it may go through. ssh2 (by node-ssh) speaks SSH in-process: no ssh
// binary or config on the runner is used.
import * as net from 'node:net'
import type { Duplex } from 'node:stream'
import { NodeSSH } from 'node-ssh'
import type { Reporter, SshTarget } from '../ports.js'
import { checkHostKey, fingerprint, hostKeyAlgorithms, parseKnownHosts } from './known-hosts.js'
import { connectReason } from './ssh-errors.js'

const CONNECT_TIMEOUT_MS = 10_000

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

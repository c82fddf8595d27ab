// The channels of one SSH connection to a manager, each running `docker
// system dial-stdio`: a bounded number open at once, and spares opened ahead
// of time, since starting dial-stdio takes longer than a request through it.
import type { Duplex } from 'node:stream'
import type { NodeSSH } from 'node-ssh'
import type { ClientChannel } from 'ssh2'
import type { ManagerLink } from './managers.js'
import { troubleOf, troubleReason } from './manager-trouble.js'
import { DIAL_COMMAND } from './managers.js'

/** Opens one byte stream to the Docker engine. */
export type Dial = () => Promise<Duplex>

/**
 * At most this many channels open at once on the one connection, whatever
 * the stack size: OpenSSH's default MaxSessions is 10, and a channel just
 * closed by us may not be closed on the manager yet.
 */
export const MAX_CHANNELS = 8

/** Waiters for a channel slot, first come first served. */
export class ChannelSlots {
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
export function endUnread(stream: Duplex): void {
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

export interface SshDialer {
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
export function sshDialer(
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
        let failed = false
        channel.on('exit', (code: number | null) => {
          failed = code !== 0
          if (failed && stderr.trim() !== '') onError(stderr.trim())
        })
        // By its close, all it printed has arrived. An engine that stopped on a manager whose
        // sshd is up fails every channel alike: the link goes on through another manager.
        channel.once('close', () => {
          if (failed && troubleOf(stderr) === 'engine-down') link().abandon(troubleReason('engine-down'), ssh)
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

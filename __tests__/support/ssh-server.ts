// A real SSH server on loopback (ssh2's Server) for tests of the SSH client
// side: host key negotiation and channel handling. Accepts any client key.
import type { Connection, ServerChannel, Session } from 'ssh2'
import ssh2 from 'ssh2'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import type { SshTarget } from '../../src/ports.js'

const { Server, utils } = ssh2

export interface TestSshServer {
  target: SshTarget
  /** Called for each `exec` request; the default answers nothing and keeps the channel open. */
  onExec: (accept: () => ServerChannel, command: string) => void
  /** Host key algorithms clients negotiated, in connection order. */
  negotiated: string[]
  /** `host:port` of each port forwarding asked for. */
  forwarded: string[]
  connections: Connection[]
  close(): Promise<void>
}

/**
 * ssh2's generateKeyPairSync, retried until ssh2 can parse what it made: about
 * 1 ed25519 key in 250 comes out malformed (a public key that starts with a
 * zero byte is written one byte short), which made tests fail at random.
 */
export function sshKeyPair(type: 'rsa' | 'ecdsa' | 'ed25519', options: { bits?: number; passphrase?: string } = {}): { private: string; public: string } {
  const extra = options.passphrase === undefined ? {} : { passphrase: options.passphrase, cipher: 'aes256-ctr', rounds: 16 }
  for (;;) {
    const pair = utils.generateKeyPairSync(type as 'ed25519', { ...(options.bits === undefined ? {} : { bits: options.bits }), ...extra } as never)
    if (!(utils.parseKey(pair.private, options.passphrase) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair
  }
}

export async function startSshServer(options: { hostKeyType: 'rsa' | 'ed25519'; serverHostKey?: string[]; authorizedKey?: string }): Promise<TestSshServer> {
  const authorized = options.authorizedKey === undefined ? undefined : utils.parseKey(options.authorizedKey)
  if (authorized instanceof Error || Array.isArray(authorized)) throw new Error('authorizedKey: one public key')
  const hostKey = options.hostKeyType === 'rsa' ? sshKeyPair('rsa', { bits: 2048 }) : sshKeyPair('ed25519')
  const clientKey = sshKeyPair('ed25519')
  const state: Omit<TestSshServer, 'target' | 'close'> = {
    onExec: accept => void accept(),
    negotiated: [],
    forwarded: [],
    connections: []
  }
  const server = new Server(
    { hostKeys: [hostKey.private], ...(options.serverHostKey ? { algorithms: { serverHostKey: options.serverHostKey as never } } : {}) },
    client => {
      state.connections.push(client)
      client.on('error', () => undefined)
      client.on('handshake', (negotiated: { serverHostKey: string }) => state.negotiated.push(negotiated.serverHostKey))
      client.on('authentication', ctx => {
        if (!authorized) return ctx.accept()
        // As sshd checks a public key: the same key, and a valid signature when one is sent.
        if (ctx.method !== 'publickey' || ctx.key.algo !== authorized.type || !ctx.key.data.equals(authorized.getPublicSSH())) return ctx.reject(['publickey'])
        if (!ctx.signature) return ctx.accept()
        return authorized.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject(['publickey'])
      })
      client.on('ready', () => {
        // Port forwarding (what a bastion does for `ssh -J`), recorded.
        client.on('tcpip', (accept, _reject, info) => {
          state.forwarded.push(`${info.destIP}:${info.destPort}`)
          const upstream = net.connect(info.destPort, info.destIP, () => {
            const channel = accept()
            channel.pipe(upstream).pipe(channel)
            channel.on('close', () => upstream.destroy())
            upstream.on('close', () => channel.close())
          })
          upstream.on('error', () => undefined)
        })
        client.on('session', acceptSession => {
          const session: Session = acceptSession()
          session.on('exec', (accept, _reject, info) => state.onExec(() => accept(), info.command))
        })
      })
    }
  )
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as AddressInfo).port
  const [type, base64] = hostKey.public.split(' ')
  const result = state as TestSshServer
  result.target = {
    kind: 'ssh',
    host: '127.0.0.1',
    port,
    user: 'test',
    privateKey: clientKey.private,
    knownHosts: `[127.0.0.1]:${port} ${type} ${base64}`,
    insecureIgnoreHostKey: false
  }
  result.close = () =>
    new Promise<void>(resolve => {
      for (const c of state.connections) c.end()
      server.close(() => resolve())
    })
  return result
}

/** A log for the tunnel and SSH code that prints nothing. */
export const QUIET = { info: (): void => undefined, warn: (): void => undefined, debug: (): void => undefined }

/**
 * The engine's answer to `GET /info`, as dockerd gives it through dial-stdio:
 * HTTP/1.1, and the connection stays open for the next request.
 */
export function answerInfo(channel: ServerChannel, swarm: { ControlAvailable: boolean; LocalNodeState: string; Cluster?: { ID: string } }): void {
  const body = JSON.stringify({ ServerVersion: '20.10.24', Swarm: swarm })
  channel.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

/** The engine's answer to a spare channel's warm-up `HEAD /_ping`. */
export const PING_ANSWER = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'

/** A manager engine behind the test server (of the swarm `clusterId`): /info and the ping answered on every `dial-stdio`, which ends with its input. */
export function actAsManager(server: TestSshServer, clusterId?: string): void {
  server.onExec = accept => {
    const channel = accept()
    channel.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1')
      if (text.startsWith('GET /info '))
        answerInfo(channel, { ControlAvailable: true, LocalNodeState: 'active', ...(clusterId ? { Cluster: { ID: clusterId } } : {}) })
      else if (text.startsWith('HEAD /_ping ')) channel.write(PING_ANSWER)
    })
    channel.on('end', () => channel.end())
  }
}

/** The log lines a connection wrote (info and warn), for tests of what it says. */
export function recorder(): { lines: string[]; info: (l: string) => void; warn: (l: string) => void; debug: (l: string) => void } {
  const lines: string[] = []
  return { lines, info: l => void lines.push(l), warn: l => void lines.push(l), debug: () => undefined }
}

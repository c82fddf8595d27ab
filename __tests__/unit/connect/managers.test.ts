// Reaching a manager, against real SSH servers (ssh2) on loopback: several
// addresses in order, one-line reasons, failover after a drop, backoff
// between handshakes, and a bound on the channels open at once.
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ServerChannel } from 'ssh2'
import type { TunnelOptions } from '../../../src/connect/tunnel.js'
import { openTunnel } from '../../../src/connect/tunnel.js'
import type { DockerTunnel, SshTarget } from '../../../src/ports.js'
import type { TestSshServer } from '../../support/ssh-server.js'
import { actAsManager, answerInfo, PING_ANSWER, recorder, sshKeyPair, startSshServer } from '../../support/ssh-server.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function manager(options: { authorizedKey?: string; clusterId?: string } = {}): Promise<TestSshServer> {
  const { clusterId, ...rest } = options
  const server = await startSshServer({ hostKeyType: 'ed25519', ...rest })
  actAsManager(server, clusterId)
  cleanups.push(() => server.close())
  return server
}

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const probe = net.createServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', () => resolve()))
  const { port } = probe.address() as net.AddressInfo
  await new Promise(resolve => probe.close(resolve))
  return port
}

/** The target of `servers[0]` with every server as a manager, known-hosts for all. */
function several(first: SshTarget, others: Array<{ port: number; knownHosts?: string }>, timeoutMs = 2000): SshTarget {
  return {
    ...first,
    knownHosts: [first.knownHosts, ...others.map(o => o.knownHosts ?? '')].join('\n'),
    managers: [{ host: '127.0.0.1', port: first.port }, ...others.map(o => ({ host: '127.0.0.1', port: o.port }))],
    connectTimeoutMs: timeoutMs
  }
}

async function tunnel(target: SshTarget, log = recorder(), options: TunnelOptions = {}): Promise<DockerTunnel> {
  const socket = path.join(mkdtempSync(path.join(os.tmpdir(), 'sd-mgr-')), 'd.sock')
  const opened = await openTunnel(target, socket, log, options)
  cleanups.push(() => opened.close())
  return opened
}

describe('the engine check on connect', () => {
  it('reads /info as dockerd sends it (chunked) and keeps its channel open as a spare: one session fewer on the manager', async () => {
    const server = await manager()
    let execs = 0
    server.onExec = accept => {
      const number = ++execs
      const channel: ServerChannel = accept()
      channel.on('data', (chunk: Buffer) => {
        const text = chunk.toString('latin1')
        if (text.startsWith('GET /info ')) {
          const body = JSON.stringify({ ServerVersion: '20.10.24', Swarm: { ControlAvailable: true, LocalNodeState: 'active', Cluster: { ID: 'c1' } } })
          // Chunked, in two pieces, the connection kept open.
          const chunked = (part: string): string => `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`
          channel.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(body.slice(0, 20))}`)
          setTimeout(() => channel.write(`${chunked(body.slice(20))}0\r\n\r\n`), 50)
        } else if (text.startsWith('HEAD /_ping ')) channel.write(PING_ANSWER)
        else channel.end(`channel ${number};`)
      })
      channel.on('end', () => channel.end())
    }
    const opened = await tunnel({ ...server.target, connectTimeoutMs: 3000 })
    expect(opened.engine?.()).toEqual({ serverVersion: '20.10.24', isManager: true, swarmState: 'active', clusterId: 'c1' })
    // The check's channel and one spare: two sessions, and a connection is answered on either at once.
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(execs).toBe(2)
    expect(await exchange(opened.socketPath)).toMatch(/^channel [12];$/)
  })
})

describe('several managers', () => {
  it('skips an address where nothing listens and one that is no manager, logging why, and uses the next', async () => {
    const worker = await startSshServer({ hostKeyType: 'ed25519' })
    cleanups.push(() => worker.close())
    worker.onExec = accept => answerInfo(accept(), { ControlAvailable: false, LocalNodeState: 'active' })
    const good = await manager()
    const refused = await closedPort()
    const target = several(worker.target, [
      { port: refused, knownHosts: good.target.knownHosts!.replace(String(good.target.port), String(refused)) },
      { port: good.target.port, knownHosts: good.target.knownHosts }
    ])
    target.privateKey = good.target.privateKey
    const log = recorder()
    const opened = await tunnel(target, log)
    expect(opened.description).toBe(`test@127.0.0.1:${good.target.port}`)
    expect(log.lines).toEqual(
      expect.arrayContaining([
        `Manager 127.0.0.1:${worker.target.port} skipped: not a swarm manager (Docker 20.10.24, swarm state active)`,
        `Manager 127.0.0.1:${refused} skipped: connection refused (no sshd listens on that port)`,
        expect.stringMatching(new RegExp(`^Manager 127\\.0\\.0\\.1:${good.target.port} serves this deploy \\(skipped: `))
      ])
    )
  })

  it('skips a manager whose host key does not match', async () => {
    const impostor = await manager()
    const good = await manager()
    const target = several({ ...impostor.target, knownHosts: good.target.knownHosts!.replace(String(good.target.port), String(impostor.target.port)) }, [
      { port: good.target.port, knownHosts: good.target.knownHosts }
    ])
    const log = recorder()
    const opened = await tunnel(target, log)
    expect(opened.description).toBe(`test@127.0.0.1:${good.target.port}`)
    expect(log.lines.join('\n')).toMatch(
      new RegExp(
        `Manager 127\\.0\\.0\\.1:${impostor.target.port} skipped: the host key of \\[127\\.0\\.0\\.1\\]:${impostor.target.port} \\(SHA256:\\S+\\) does not match known-hosts`
      )
    )
  })

  it('fails naming each address and its reason when none answers, within the connect timeouts', async () => {
    const held: net.Socket[] = []
    const silent = net.createServer(socket => void held.push(socket)) // accepts TCP, never speaks SSH
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', () => resolve()))
    cleanups.push(
      () =>
        new Promise(resolve => {
          for (const socket of held) socket.destroy()
          silent.close(resolve)
        })
    )
    const silentPort = (silent.address() as net.AddressInfo).port
    // Every server first: a port freed by closedPort() could be handed to one.
    const any = await manager()
    const refused = await closedPort()
    const target = several(
      { ...any.target, port: silentPort, knownHosts: `[127.0.0.1]:${silentPort} ${any.target.knownHosts!.split(' ').slice(1).join(' ')}` },
      [{ port: refused, knownHosts: `[127.0.0.1]:${refused} ${any.target.knownHosts!.split(' ').slice(1).join(' ')}` }],
      1000
    )
    const started = Date.now()
    await expect(tunnel(target)).rejects.toThrow(
      `ssh: no swarm manager could be reached: 127.0.0.1:${silentPort} timed out after 1s; 127.0.0.1:${refused} connection refused (no sshd listens on that port). Nothing was deployed.`
    )
    expect(Date.now() - started).toBeLessThan(2000 + 500)
  })
})

describe('one-line reasons', () => {
  it('says permission denied (publickey) when the manager does not accept the key', async () => {
    const other = sshKeyPair('ed25519')
    const server = await manager({ authorizedKey: other.public })
    await expect(tunnel(server.target)).rejects.toThrow(
      `ssh: cannot connect to test@127.0.0.1:${server.target.port}: permission denied (publickey): test did not accept ssh-key; add its public key to ~test/.ssh/authorized_keys on the manager, or give the key that is there`
    )
  })

  it('accepts the authorized key, encrypted, with its passphrase', async () => {
    const pair = sshKeyPair('ed25519', { passphrase: 'pass phrase' })
    const server = await manager({ authorizedKey: pair.public })
    const opened = await tunnel({ ...server.target, privateKey: pair.private, passphrase: 'pass phrase' })
    expect(opened.sshConnections()).toBe(1)
    // Making and decrypting the bcrypt-protected key takes ~2.5 s alone, past jest's 5 s on a busy machine.
  }, 20_000)

  it('says the user cannot reach the Docker engine when the socket refuses it', async () => {
    const server = await manager()
    server.onExec = accept => {
      const channel = accept()
      channel.stderr.write(
        'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/_ping": dial unix /var/run/docker.sock: connect: permission denied\n'
      )
      channel.exit(1)
      channel.end()
    }
    await expect(tunnel(server.target)).rejects.toThrow(
      `ssh: test@127.0.0.1:${server.target.port}: the user test cannot reach the Docker engine on the manager (permission denied on the socket): add test to the docker group there (usermod -aG docker test) or use a user that can run docker. Nothing was deployed.`
    )
  })
})

/** One request through the tunnel socket: the bytes the far end answered. */
function exchange(socketPath: string): Promise<string> {
  return new Promise(resolve => {
    const local = net.connect(socketPath)
    let got = ''
    local.on('data', chunk => (got += chunk.toString('utf8')))
    local.on('error', () => undefined)
    local.on('close', () => resolve(got))
    local.write('ping')
  })
}

describe('after a drop', () => {
  it('resumes through the next manager that answers', async () => {
    const first = await manager()
    const second = await manager()
    const target = several(first.target, [{ port: second.target.port, knownHosts: second.target.knownHosts }])
    const log = recorder()
    const opened = await tunnel(target, log)
    expect(opened.description).toBe(`test@127.0.0.1:${first.target.port}`)
    second.onExec = accept => {
      const channel = accept()
      channel.once('data', (chunk: Buffer) => {
        if (chunk.toString().startsWith('GET /info')) answerInfo(channel, { ControlAvailable: true, LocalNodeState: 'active' })
        else channel.end('pong')
      })
    }
    const closing = first.close()
    await new Promise(resolve => setTimeout(resolve, 200))
    let answer = ''
    for (let i = 0; i < 20 && answer === ''; i++) {
      answer = await exchange(opened.socketPath)
      if (answer === '') await new Promise(resolve => setTimeout(resolve, 250))
    }
    expect(answer).toBe('pong')
    expect(opened.description).toBe(`test@127.0.0.1:${second.target.port}`)
    expect(opened.sshConnections()).toBe(2)
    expect(log.lines).toContain(`SSH reconnected through test@127.0.0.1:${second.target.port}`)
    await closing
  }, 15_000)

  // Cluster IDs are secret (they key the secret version names): the refusal names the hosts only.
  it('refuses a manager of another swarm than the first connection, naming both hosts, and goes on to one of the same swarm', async () => {
    const first = await manager({ clusterId: 'swarm-a' })
    const other = await manager({ clusterId: 'swarm-b' })
    const third = await manager({ clusterId: 'swarm-a' })
    const target = several(first.target, [other.target, third.target])
    const log = recorder()
    const opened = await tunnel(target, log)
    const answering = (server: TestSshServer, clusterId: string, answer: string): void => {
      server.onExec = accept => {
        const channel = accept()
        channel.once('data', (chunk: Buffer) => {
          if (chunk.toString().startsWith('GET /info')) answerInfo(channel, { ControlAvailable: true, LocalNodeState: 'active', Cluster: { ID: clusterId } })
          else channel.end(answer)
        })
      }
    }
    answering(other, 'swarm-b', 'from another swarm')
    answering(third, 'swarm-a', 'pong')
    const closing = first.close()
    await new Promise(resolve => setTimeout(resolve, 200))
    const answers: string[] = []
    for (let i = 0; i < 30 && answers.at(-1) !== 'pong'; i++) {
      answers.push(await exchange(opened.socketPath))
      if (answers.at(-1) !== 'pong') await new Promise(resolve => setTimeout(resolve, 250))
    }
    expect(answers).not.toContain('from another swarm')
    expect(answers.at(-1)).toBe('pong')
    expect(opened.description).toBe(`test@127.0.0.1:${third.target.port}`)
    expect(log.lines).toContain(
      `Refused manager 127.0.0.1:${other.target.port}: it belongs to another swarm than 127.0.0.1:${first.target.port}, which this run connected to first (their cluster IDs differ)`
    )
    expect(log.lines.join('\n')).not.toMatch(/swarm-[ab]/)
    await closing
  }, 15_000)

  it('with one manager, reconnects to it at once after a drop, verified again', async () => {
    const server = await manager()
    const log = recorder()
    const opened = await tunnel(server.target, log)
    server.onExec = accept => {
      const channel = accept()
      channel.once('data', (chunk: Buffer) => {
        if (chunk.toString().startsWith('GET /info')) answerInfo(channel, { ControlAvailable: true, LocalNodeState: 'active' })
        else channel.end('pong')
      })
    }
    for (const connection of server.connections) connection.end()
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(await exchange(opened.socketPath)).toBe('pong')
    expect(opened.sshConnections()).toBe(2)
    expect(log.lines.filter(l => l.startsWith('Host key '))).toHaveLength(2)
    expect(log.lines).toContain(`SSH reconnected through test@127.0.0.1:${server.target.port}`)
  })

  it('backs off between handshakes to a manager that refuses: never two within a second', async () => {
    const server = await manager()
    const opened = await tunnel(server.target)
    // Now the address answers TCP and hangs up at once, like an sshd over MaxStartups.
    const port = server.target.port
    await server.close()
    const handshakes: number[] = []
    const refuser = net.createServer(socket => {
      handshakes.push(Date.now())
      socket.destroy()
    })
    await new Promise<void>(resolve => refuser.listen(port, '127.0.0.1', () => resolve()))
    cleanups.push(() => new Promise(resolve => refuser.close(resolve)))
    const started = Date.now()
    // A poller far faster than any backoff: every 50 ms for 4 s.
    while (Date.now() - started < 4000) {
      await exchange(opened.socketPath)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    // Attempts at about 0, 1, 3 s (backoff 1 s, 2 s, then 4 s).
    expect(handshakes.length).toBeGreaterThanOrEqual(2)
    expect(handshakes.length).toBeLessThanOrEqual(3)
    for (let i = 1; i < handshakes.length; i++) expect(handshakes[i]! - handshakes[i - 1]!).toBeGreaterThanOrEqual(950)
  })
})

describe('channels on the one connection', () => {
  it('keeps at most 8 open at once, so 30 concurrent requests all pass an sshd with MaxSessions 10', async () => {
    const server = await manager()
    let open = 0
    let peak = 0
    // Set first: the tunnel opens a spare channel as soon as it connects.
    server.onExec = accept => {
      // Like sshd with MaxSessions 10: an 11th open session is refused.
      if (open >= 10) {
        const channel: ServerChannel = accept()
        channel.exit(1)
        channel.end()
        return
      }
      open += 1
      peak = Math.max(peak, open)
      const channel = accept()
      channel.on('close', () => (open -= 1))
      // A spare's warm-up ping gets the engine's answer (headers alone); a request gets its pong.
      channel.on('data', (chunk: Buffer) => {
        if (chunk.toString('latin1').startsWith('HEAD /_ping ')) channel.write(PING_ANSWER)
        else setTimeout(() => channel.end('pong'), 50)
      })
    }
    // No probe: every channel here is one a request uses (or a spare).
    const opened = await tunnel(server.target, recorder(), { probe: false })
    const answers = await Promise.all(Array.from({ length: 30 }, () => exchange(opened.socketPath)))
    expect(answers.filter(a => a === 'pong')).toHaveLength(30)
    expect(peak).toBeLessThanOrEqual(8)
    // Connections in use at once, spares warming up aside: several, never past the limit.
    expect(opened.traffic().maxChannels).toBeGreaterThan(1)
    expect(opened.traffic().maxChannels).toBeLessThanOrEqual(8)
  })
})

describe('through a jump host', () => {
  async function bastion(): Promise<TestSshServer> {
    const server = await startSshServer({ hostKeyType: 'ed25519' })
    cleanups.push(() => server.close())
    return server
  }

  it('reaches the manager by port forwarding on the jump host, both host keys pinned', async () => {
    const jump = await bastion()
    const target = await manager()
    const log = recorder()
    const opened = await tunnel(
      {
        ...target.target,
        jump: {
          host: '127.0.0.1',
          port: jump.target.port,
          user: 'hop',
          privateKey: jump.target.privateKey,
          passphrase: undefined,
          knownHosts: jump.target.knownHosts
        }
      },
      log
    )
    expect(jump.forwarded).toEqual([`127.0.0.1:${target.target.port}`])
    expect(opened.description).toBe(`test@127.0.0.1:${target.target.port}`)
    expect(log.lines).toContain(`Through jump host hop@127.0.0.1:${jump.target.port} to 127.0.0.1:${target.target.port}`)
  })

  it('refuses a jump host whose key does not match before reaching the manager', async () => {
    const jump = await bastion()
    const other = await bastion()
    const target = await manager()
    const wrong = other.target.knownHosts!.replace(String(other.target.port), String(jump.target.port))
    await expect(
      tunnel({
        ...target.target,
        jump: { host: '127.0.0.1', port: jump.target.port, user: 'hop', privateKey: jump.target.privateKey, passphrase: undefined, knownHosts: wrong }
      })
    ).rejects.toThrow(
      new RegExp(
        `^ssh: jump host hop@127\\.0\\.0\\.1:${jump.target.port}: the host key of \\[127\\.0\\.0\\.1\\]:${jump.target.port} \\(SHA256:\\S+\\) does not match jump-known-hosts: refusing to connect`
      )
    )
    expect(jump.forwarded).toEqual([])
    expect(target.connections).toHaveLength(0)
  })
})

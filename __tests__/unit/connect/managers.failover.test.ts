// A manager that answers SSH but cannot serve, against real SSH servers
// (ssh2) on loopback: its engine stops (every dial-stdio fails as Docker's
// does) or its swarm has no leader. The texts are those recorded on
// lab/cluster.sh (__tests__/fixtures/managers/errors.json).
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync } from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ServerChannel } from 'ssh2'
import { openTunnel } from '../../../src/connect/tunnel.js'
import type { DockerTunnel, SshTarget } from '../../../src/ports.js'
import type { TestSshServer } from '../../support/ssh-server.js'
import { PING_ANSWER, recorder, startSshServer } from '../../support/ssh-server.js'

const recorded = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/managers/errors.json'), 'utf8')) as Record<
  string,
  string
>

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function answerJson(channel: ServerChannel, body: unknown): void {
  const text = JSON.stringify(body)
  channel.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`)
}

/** A manager of swarm `c1` whose engine can be stopped: every dial-stdio then fails as Docker 28's CLI does. */
async function manager(swarm: Record<string, unknown> = { ControlAvailable: true, LocalNodeState: 'active', Cluster: { ID: 'c1' } }) {
  const server = await startSshServer({ hostKeyType: 'ed25519' })
  cleanups.push(() => server.close())
  const open = new Set<ServerChannel>()
  let engineUp = true
  const fail = (channel: ServerChannel): void => {
    channel.stderr.write(`${recorded.dialStdioEngineStopped}\n`)
    channel.exit(1)
    channel.end()
  }
  server.onExec = accept => {
    const channel = accept()
    if (!engineUp) return fail(channel)
    open.add(channel)
    channel.on('close', () => open.delete(channel))
    channel.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1')
      if (text.startsWith('GET /info ')) answerJson(channel, { ServerVersion: '28.5.2', Swarm: swarm })
      else if (text.startsWith('HEAD /_ping ')) channel.write(PING_ANSWER)
      else channel.end('pong')
    })
    channel.on('end', () => channel.end())
  }
  return {
    server,
    stopEngine(): void {
      engineUp = false
      for (const channel of open) fail(channel)
    }
  }
}

function several(servers: TestSshServer[]): SshTarget {
  return {
    ...servers[0]!.target,
    knownHosts: servers.map(s => s.target.knownHosts).join('\n'),
    managers: servers.map(s => ({ host: '127.0.0.1', port: s.target.port })),
    connectTimeoutMs: 2000
  }
}

async function tunnel(target: SshTarget, log = recorder()): Promise<DockerTunnel> {
  const socket = path.join(mkdtempSync(path.join(os.tmpdir(), 'sd-ha-')), 'd.sock')
  const opened = await openTunnel(target, socket, log)
  cleanups.push(() => opened.close())
  return opened
}

/** One request through the tunnel socket: what the far end answered ('' when it hung up or said nothing within 1 s). */
function exchange(socketPath: string): Promise<string> {
  return new Promise(resolve => {
    const local = net.connect(socketPath)
    let got = ''
    local.setTimeout(1000, () => local.destroy())
    local.on('data', chunk => (got += chunk.toString('utf8')))
    local.on('error', () => undefined)
    local.on('close', () => resolve(got))
    local.write('ping')
  })
}

async function untilPong(socketPath: string, withinMs = 8000): Promise<string[]> {
  const answers: string[] = []
  const until = Date.now() + withinMs
  while (Date.now() < until && answers.at(-1) !== 'pong') {
    answers.push(await exchange(socketPath))
    if (answers.at(-1) !== 'pong') await new Promise(resolve => setTimeout(resolve, 200))
  }
  return answers
}

describe('a manager whose engine stops while its sshd stays up', () => {
  it('is left for the next manager, which serves the requests that follow', async () => {
    const first = await manager()
    const second = await manager()
    const log = recorder()
    const opened = await tunnel(several([first.server, second.server]), log)
    expect(opened.description).toBe(`test@127.0.0.1:${first.server.target.port}`)
    first.stopEngine()
    expect((await untilPong(opened.socketPath)).at(-1)).toBe('pong')
    expect(opened.description).toBe(`test@127.0.0.1:${second.server.target.port}`)
    expect(log.lines).toContain(
      `Manager 127.0.0.1:${first.server.target.port} cannot serve: its Docker engine is not running (docker system dial-stdio cannot connect to it); going on through another manager`
    )
    expect(opened.trouble?.()).toBeUndefined()
  }, 20_000)

  it('with one manager, keeps its connection and waits for the engine (no other manager to go to)', async () => {
    const only = await manager()
    const log = recorder()
    const opened = await tunnel(several([only.server]), log)
    only.stopEngine()
    for (let i = 0; i < 3; i++) await exchange(opened.socketPath)
    expect(opened.sshConnections()).toBe(1)
    expect(log.lines.join('\n')).not.toContain('cannot serve')
  }, 20_000)
})

describe('a manager whose swarm has no leader', () => {
  const noLeader = { ControlAvailable: true, LocalNodeState: 'active', Error: recorded.infoSwarmErrorNoLeader, Cluster: { ID: '' } }

  it('is skipped at the start as a lost quorum, not as a manager of another swarm', async () => {
    const first = await manager(noLeader)
    const second = await manager()
    const log = recorder()
    const opened = await tunnel(several([first.server, second.server]), log)
    expect(opened.description).toBe(`test@127.0.0.1:${second.server.target.port}`)
    expect(log.lines.join('\n')).toContain(`Manager 127.0.0.1:${first.server.target.port} skipped: the swarm has lost its quorum`)
  }, 20_000)

  it('after the engine serving stops, makes the tunnel say the swarm has lost its quorum while no manager serves', async () => {
    const first = await manager()
    const second = await manager(noLeader)
    const log = recorder()
    const opened = await tunnel(several([first.server, second.server]), log)
    first.stopEngine()
    const answers = await untilPong(opened.socketPath, 4000)
    expect(answers).not.toContain('pong')
    expect(opened.trouble?.()).toMatch(/^the swarm has lost its quorum: .* \(127\.0\.0\.1:\d+: .*\)$/)
    expect(log.lines.join('\n')).not.toContain('another swarm')
  }, 20_000)
})

// The tunnel keeps `dial-stdio` channels open ahead of time (two by
// default), so a new engine connection does not wait for the manager to start
// one. Against a real SSH server (ssh2) on loopback: the spares are used, one
// already open first, they never take a slot past the channel limit, and they
// close with the tunnel.
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ServerChannel } from 'ssh2'
import type { TunnelOptions } from '../../../src/connect/tunnel.js'
import { openTunnel } from '../../../src/connect/tunnel.js'
import type { TestSshServer } from '../../support/ssh-server.js'
import { PING_ANSWER, startSshServer } from '../../support/ssh-server.js'
import type { DockerTunnel } from '../../../src/ports.js'

const QUIET = { info: () => undefined, warn: () => undefined, debug: () => undefined }
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** An sshd whose channels answer each request with their own number, and which records what is open. */
async function manager(): Promise<{ server: TestSshServer; execs: number; open: Set<number>; peak: number }> {
  const server = await startSshServer({ hostKeyType: 'ed25519' })
  cleanups.push(() => server.close())
  const state = { server, execs: 0, open: new Set<number>(), peak: 0 }
  server.onExec = accept => {
    const number = ++state.execs
    const channel: ServerChannel = accept()
    state.open.add(number)
    state.peak = Math.max(state.peak, state.open.size)
    channel.on('close', () => state.open.delete(number))
    // A spare is warmed up with a ping, which the engine answers with headers alone.
    channel.on('data', (chunk: Buffer) => channel.write(chunk.toString('latin1').startsWith('HEAD /_ping ') ? PING_ANSWER : `channel ${number};`))
    // As dial-stdio does: the end of its input ends it.
    channel.on('end', () => channel.end())
  }
  return state
}

async function tunnel(server: TestSshServer, options: TunnelOptions = {}): Promise<DockerTunnel> {
  const socket = path.join(mkdtempSync(path.join(os.tmpdir(), 'sd-spare-')), 'd.sock')
  const opened = await openTunnel(server.target, socket, QUIET, { probe: false, ...options })
  cleanups.push(() => opened.close())
  return opened
}

/** A connection to the tunnel that sends one request and resolves with the first answer; end() closes it. */
async function connection(socketPath: string): Promise<{ answer: string; end(): void }> {
  const local = net.connect(socketPath)
  local.on('error', () => undefined)
  const answer = await new Promise<string>(resolve => {
    local.once('data', chunk => resolve(chunk.toString('utf8')))
    local.write('ping')
  })
  return { answer, end: () => local.destroy() }
}

const until = async (condition: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  expect(condition()).toBe(true)
}

describe('the spare channels', () => {
  it('are opened before any connection asks, and connections are answered on them, two kept open meanwhile', async () => {
    const sshd = await manager()
    const opened = await tunnel(sshd.server)
    await until(() => sshd.execs === 2)
    const first = await connection(opened.socketPath)
    expect(first.answer).toBe('channel 1;')
    // Another spare opens while the first connection is in use, and only that one.
    await until(() => sshd.execs === 3)
    const second = await connection(opened.socketPath)
    expect(second.answer).toBe('channel 2;')
    await until(() => sshd.execs === 4)
    expect([...sshd.open]).toEqual([1, 2, 3, 4])
    first.end()
    second.end()
    await until(() => sshd.open.size === 2)
    expect([...sshd.open]).toEqual([3, 4])
    expect(sshd.execs).toBe(4)
  })

  it('hand out one whose dial-stdio answered before one the manager is still starting', async () => {
    const sshd = await manager()
    const answer = sshd.server.onExec
    let answerPing: (() => void) | undefined
    sshd.server.onExec = (accept, command) => {
      if (sshd.execs > 0) return answer(accept, command)
      // The first dial-stdio is slow to start: sshd accepts the exec at once, the engine answers much later.
      sshd.execs += 1
      const channel: ServerChannel = accept()
      channel.on('data', (chunk: Buffer) => {
        if (chunk.toString('latin1').startsWith('HEAD /_ping ')) answerPing = () => channel.write(PING_ANSWER)
        else channel.write('channel 1;')
      })
      channel.on('end', () => channel.end())
    }
    const opened = await tunnel(sshd.server)
    await until(() => sshd.execs === 2 && answerPing !== undefined)
    // The manager has answered the second; its answer reaches the client a moment later.
    await new Promise(resolve => setTimeout(resolve, 100))
    expect((await connection(opened.socketPath)).answer).toBe('channel 2;')
    // The slow one is still a spare (channel 3 opened meanwhile), handed out first once it has answered.
    await until(() => sshd.execs === 3)
    answerPing!()
    await new Promise(resolve => setTimeout(resolve, 100))
    expect((await connection(opened.socketPath)).answer).toBe('channel 1;')
  })

  it('keep one when told to', async () => {
    const sshd = await manager()
    const opened = await tunnel(sshd.server, { spareChannels: 1 })
    await until(() => sshd.execs === 1)
    const first = await connection(opened.socketPath)
    expect(first.answer).toBe('channel 1;')
    await until(() => sshd.execs === 2)
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(sshd.execs).toBe(2)
    first.end()
    await until(() => sshd.open.size === 1)
  })

  it('never take a slot past the channel limit, and a connection still gets one when the others close', async () => {
    const sshd = await manager()
    const opened = await tunnel(sshd.server, { maxChannels: 2 })
    const a = await connection(opened.socketPath)
    const b = await connection(opened.socketPath)
    expect([a.answer, b.answer]).toEqual(['channel 1;', 'channel 2;'])
    // Both slots are in use: no spare.
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(sshd.execs).toBe(2)
    const waiting = connection(opened.socketPath)
    a.end()
    expect((await waiting).answer).toBe('channel 3;')
    expect(sshd.peak).toBeLessThanOrEqual(2)
  })

  it('are not handed out once their dial-stdio has ended, and free their slot', async () => {
    const sshd = await manager()
    const answer = sshd.server.onExec
    sshd.server.onExec = (accept, command) => {
      if (sshd.execs > 0) return answer(accept, command)
      // The first one (the spare) ends before anyone uses it, as when the engine restarts.
      sshd.execs += 1
      const channel: ServerChannel = accept()
      setTimeout(() => {
        channel.exit(0)
        channel.end()
      }, 50)
    }
    // One slot: a spare that kept it would leave the connection waiting.
    const opened = await tunnel(sshd.server, { maxChannels: 1, channelTimeoutMs: 2_000 })
    await new Promise(resolve => setTimeout(resolve, 300))
    expect((await connection(opened.socketPath)).answer).toBe('channel 2;')
  })

  it('close with the tunnel', async () => {
    const sshd = await manager()
    const opened = await tunnel(sshd.server)
    await until(() => sshd.open.size === 2)
    await opened.close()
    await until(() => sshd.open.size === 0)
  })
})

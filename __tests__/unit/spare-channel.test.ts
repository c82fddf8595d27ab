// The tunnel keeps one `dial-stdio` channel open ahead of time, so a new
// engine connection does not wait for the manager to start one. Against a
// real SSH server (ssh2) on loopback: the spare is used, there is never more
// than one, it never takes a slot past the channel limit, and it closes with
// the tunnel.
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ServerChannel } from 'ssh2'
import type { DockerTunnel, TunnelOptions } from '../../src/connect/docker-tunnel.js'
import { openTunnel } from '../../src/connect/docker-tunnel.js'
import type { TestSshServer } from '../support/ssh-server.js'
import { startSshServer } from '../support/ssh-server.js'

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
    channel.on('data', () => channel.write(`channel ${number};`))
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

describe('the spare channel', () => {
  it('is opened before any connection asks, and the first connection is answered on it', async () => {
    const sshd = await manager()
    const opened = await tunnel(sshd.server)
    await until(() => sshd.execs === 1)
    const first = await connection(opened.socketPath)
    expect(first.answer).toBe('channel 1;')
    // The next spare is open while the first connection is in use, and only that one.
    await until(() => sshd.execs === 2)
    expect([...sshd.open]).toEqual([1, 2])
    const second = await connection(opened.socketPath)
    expect(second.answer).toBe('channel 2;')
    first.end()
    second.end()
    await until(() => sshd.open.size === 1)
    expect(sshd.execs).toBe(3)
  })

  it('never takes a slot past the channel limit, and a connection still gets one when the others close', async () => {
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

  it('is not handed out once its dial-stdio has ended, and frees its slot', async () => {
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

  it('closes with the tunnel', async () => {
    const sshd = await manager()
    const opened = await tunnel(sshd.server)
    await until(() => sshd.open.size === 1)
    await opened.close()
    await until(() => sshd.open.size === 0)
  })
})

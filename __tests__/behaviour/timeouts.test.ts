// Every wait on something remote has a bound: docker login, the ECR token
// request, and opening an SSH channel; local fakes stand in for each.
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import * as http from 'node:http'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { openTunnel } from '../../src/connect/tunnel.js'
import type { CliOptions, CliResult, DockerCli, DockerTunnel } from '../../src/ports.js'
import { ecrToken } from '../../src/registry/credentials/ecr.js'
import { login } from '../../src/registry/login.js'
import type { TestSshServer } from '../support/ssh-server.js'
import { PING_ANSWER, QUIET, startSshServer } from '../support/ssh-server.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function scratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-timeouts-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('docker login', () => {
  // Stands in for a registry that never answers: the CLI runs until its timeout stops it.
  class HangingCli implements DockerCli {
    calls: Array<{ args: string[]; options: CliOptions | undefined }> = []
    run(args: string[], options?: CliOptions): Promise<CliResult> {
      this.calls.push({ args, options })
      if (options?.timeoutMs === undefined) return new Promise<CliResult>(() => undefined)
      return Promise.resolve({ code: -1, stdout: '', stderr: '', timedOut: true })
    }
  }

  it('runs under a timeout and fails naming the registry, not the password', async () => {
    const config = scratch()
    writeFileSync(path.join(config, 'config.json'), '{}')
    const cli = new HangingCli()
    const error = await login(cli, config, { registry: 'ghcr.io', username: 'me', password: 'hunter2-secret' }).then(
      () => undefined,
      (e: Error) => e
    )
    expect(cli.calls[0]!.options?.timeoutMs).toBe(60_000)
    expect(error?.message).toBe('docker login to ghcr.io did not finish within 60 s and was stopped')
    expect(error?.message).not.toContain('hunter2')
  })
})

describe('ECR token', () => {
  it('gives up on an endpoint that never answers', async () => {
    const held: http.ServerResponse[] = []
    const server = http.createServer((_req, res) => void held.push(res))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
    cleanups.push(
      () =>
        new Promise<void>(resolve => {
          for (const res of held) res.destroy()
          server.closeAllConnections()
          server.close(() => resolve())
        })
    )
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY }
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE'
    process.env.AWS_SECRET_ACCESS_KEY = 'example-secret'
    cleanups.push(() => {
      for (const [name, value] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.key]
      ] as const) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    })
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const started = Date.now()
    await expect(ecrToken('eu-west-1', { endpoint, timeoutMs: 500 })).rejects.toThrow(
      'ECR GetAuthorizationToken (region eu-west-1) did not answer within 0.5 s'
    )
    expect(held.length).toBeGreaterThan(0)
    expect(Date.now() - started).toBeLessThan(4_000)
  })
})

describe('SSH channels of the tunnel', () => {
  async function tunnel(server: TestSshServer, channelTimeoutMs?: number): Promise<DockerTunnel> {
    const socket = path.join(scratch(), 'd.sock')
    const opened = await openTunnel(server.target, socket, QUIET, channelTimeoutMs === undefined ? { probe: false } : { channelTimeoutMs, probe: false })
    cleanups.push(() => opened.close())
    return opened
  }

  async function sshServer(): Promise<TestSshServer> {
    const server = await startSshServer({ hostKeyType: 'ed25519' })
    cleanups.push(() => server.close())
    return server
  }

  it('closes the local connection when the manager does not open the channel in time', async () => {
    const server = await sshServer()
    const requests: string[] = []
    server.onExec = (_accept, command) => void requests.push(command) // never answered
    const opened = await tunnel(server, 300)
    const local = net.connect(opened.socketPath)
    const closed = await new Promise<boolean>(resolve => {
      local.on('error', () => undefined)
      local.on('close', () => resolve(true))
    })
    expect(closed).toBe(true)
    // The two channels opened ahead of time (one of them the one this connection waited for), and the next spare.
    expect(requests).toEqual(['docker system dial-stdio', 'docker system dial-stdio', 'docker system dial-stdio'])
  })

  it('closes the remote channel of a local connection that went away while it opened', async () => {
    const server = await sshServer()
    // The first channel asked for: the spare the connection below takes (a second spare is asked for then).
    let accept: (() => import('ssh2').ServerChannel) | undefined
    const requested = new Promise<void>(resolve => {
      server.onExec = open => {
        accept ??= open
        resolve()
      }
    })
    const opened = await tunnel(server)
    const local = net.connect(opened.socketPath)
    local.on('error', () => undefined)
    await requested
    local.destroy()
    await new Promise(resolve => setTimeout(resolve, 100))
    const channel = accept!()
    // Its dial-stdio answers the warm-up ping; only then is the channel the connection's.
    channel.on('data', (chunk: Buffer) => {
      if (chunk.toString('latin1').startsWith('HEAD /_ping ')) channel.write(PING_ANSWER)
    })
    const remoteClosed = await new Promise<boolean>(resolve => channel.on('close', () => resolve(true)))
    expect(remoteClosed).toBe(true)
  })
})

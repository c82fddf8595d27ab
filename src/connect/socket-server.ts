// The private unix socket on the runner that the docker CLI and the API
// client connect to: each connection accepted is carried by one dial to the
// engine, and what goes through is counted.
import * as net from 'node:net'
import type { Reporter, TunnelTraffic } from '../ports.js'
import type { Dial } from './channel-pool.js'
import { endUnread } from './channel-pool.js'

/** Serve `socketPath`, dialling the engine once per accepted connection. */
export async function serve(socketPath: string, dial: Dial, log: Pick<Reporter, 'debug'>): Promise<{ close(): Promise<void>; traffic: TunnelTraffic }> {
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

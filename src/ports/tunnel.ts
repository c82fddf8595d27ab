// The tunnel to the target engine: a unix socket on the runner (src/connect/tunnel.ts).

export interface DockerTunnel {
  /** Unix socket on the runner that reaches the target engine. */
  socketPath: string
  /** For logs: where the engine is. */
  description: string
  /** The last error text the far end printed, to explain a failed request. */
  lastDialError(): string | undefined
  /** SSH connections opened so far (1 unless one dropped and was reopened). */
  sshConnections(): number
  /** What went through the socket so far. */
  traffic(): TunnelTraffic
  /** What the engine answered when the connection was made (its /info), if it was asked. */
  engine?(): EngineFacts | undefined
  /** The manager serving now cannot (it said it is no manager any more): go on through another one, if `host` names several. */
  failover?(reason: string): void
  /** Why no manager serves now, while the connection is being made again (e.g. the swarm has lost its quorum). */
  trouble?(): string | undefined
  close(): Promise<void>
}

export interface TunnelTraffic {
  /** Bytes from the engine to the runner. */
  bytesRead: number
  /** Engine connections (SSH channels) open now, and the most open at once. */
  channels: number
  maxChannels: number
}

/** What the engine said of itself when the connection was checked (its /info). */
export interface EngineFacts {
  serverVersion: string
  isManager: boolean
  swarmState: string
  /** The swarm's cluster ID, which /info gives on a manager. */
  clusterId?: string
  /** What /info says is wrong with the swarm (Swarm.Error), e.g. that it has no leader. */
  swarmError?: string
}

// Where the engine is: the target the inputs name and the tunnel reaches.

export interface SshTarget {
  kind: 'ssh'
  host: string
  port: number
  user: string
  privateKey: string
  /** known_hosts text; undefined only with insecureIgnoreHostKey. */
  knownHosts: string | undefined
  insecureIgnoreHostKey: boolean
  /** Every manager to try, in order; `host` and `port` are the first. Absent: just that one. */
  managers?: HostPort[]
  /** Bound on reaching one manager (SSH, then its engine). */
  connectTimeoutMs?: number
  /** For an encrypted `privateKey`. */
  passphrase?: string | undefined
  /** Reach the managers through this SSH server (`jump-host`). */
  jump?: JumpHost | undefined
}

/** A bastion the manager connections go through, by SSH port forwarding. */
export interface JumpHost {
  host: string
  port: number
  user: string
  privateKey: string
  passphrase: string | undefined
  /** known_hosts text for the jump host; undefined only with insecureIgnoreHostKey. */
  knownHosts: string | undefined
}

/** No host: the Docker engine the runner's own docker CLI reaches (self-hosted runner on a manager). */
export interface LocalTarget {
  kind: 'local'
}

/** A host and its port. */
export interface HostPort {
  host: string
  port: number
}

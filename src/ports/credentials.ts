// Registry credentials kept outside the inputs: ECR tokens from the AWS SDK
// (src/registry/credentials/ecr.ts) and a Docker credential helper's `get`
// (src/registry/credentials/credential-helper.ts).

/** What a helper's `get` printed and how it exited. */
export interface HelperAnswer {
  code: number
  stdout: string
  stderr: string
}

/** Runs `docker-credential-<helper> get` with `serverUrl` on stdin; rejects with `HelperMissing` when it is not on PATH. */
export type HelperRun = (helper: string, serverUrl: string, env: Record<string, string>) => Promise<HelperAnswer>

// Registry credentials: one source per kind of login (src/registry/credentials/),
// asked in order; the first whose `matches` is true gives the login. A new kind
// is a new source, with no wording about it anywhere else.

/** A user and password (or token) for a registry. */
export interface Credentials {
  username: string
  password: string
}

/** An ECR login: the token's user and password, and when ECR says the token stops working (about 12 hours on). */
export interface EcrToken extends Credentials {
  expiresAt?: Date
}

/** `Adapters.ecrToken`: a token for an ECR region, from the job's AWS credentials (src/registry/credentials/ecr.ts). */
export type EcrTokenSource = (region: string) => Promise<EcrToken>

/** A registry login a run uses, and when its source says it stops working. */
export interface RegistryLogin extends Credentials {
  registry: string
  /** When a token stops working, as its source says; left out by a source that does not know. */
  expiresAt?: Date
}

/** What is said of a credential that expires, in each place it is said: its source's words. */
export interface ExpiryNote {
  /** The deploy's log line once it is stored in the services: when it stops working, and what keeps it fresh. */
  stored(registry: string, expiresAt: Date, now: number): string
  /** The refresh's log line for the credential it just stored. */
  refreshed(registry: string, expiresAt: Date, now: number): string
  /** The deploy summary's note. */
  summary(expiresAt: string): string
  /** The refresh's summary sentence, and its terminal line. */
  refreshSummary(expiresAt: string): string
  refreshText(expiresAt: string): string
}

export interface CredentialSource {
  /** Which kind it is, for tests and the debug log. */
  readonly kind: 'static' | 'ecr' | 'credential-helper' | 'docker-config'
  /** Whether the login for `registry` is this source's to give (it may still have none). */
  matches(registry: string): boolean
  /** The login; undefined: none, and the run goes on without one. */
  login(registry: string): Promise<RegistryLogin | undefined>
  /** For a source whose credentials expire. */
  readonly expiry?: ExpiryNote
}

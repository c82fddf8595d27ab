// The engine's three seams. Front ends (the Action, the CLI, in-process
// tests) implement them; the engine itself reads no process state and
// prints nothing directly.
import type { DockerTunnel } from './connect/docker-tunnel.js'
import type { DockerCli } from './docker-cli.js'
import type { SshTarget } from './inputs/inputs.js'
import type { DeploymentsClient } from './github/deployments.js'
import type { HelperRun } from './registry/credentials/credential-helper.js'
import type { SmokeGet } from './smoke/http.js'
import type { SwarmApi } from './swarm/api.js'

/** Where the log goes. Every line the engine prints goes through one of these. */
export interface Reporter {
  /**
   * A value that must never be printed, whole: called before anything could
   * print it. The reporter hides it by the length policy of src/secrets.ts.
   */
  secret(value: string): void
  /** A titled step; the reporter shows its duration and closes it even when `fn` throws. */
  phase<T>(title: string, fn: () => Promise<T>): Promise<T>
  info(line: string): void
  warn(line: string): void
  debug(line: string): void
  /** A docker command about to run. Its arguments never hold a secret. */
  command(argv: string[]): void
  /** A child's output as it arrives: text the reporter must never run as a command of its own. */
  stream(chunk: Buffer, from: 'stdout' | 'stderr'): void
  /** An output of the run (`status`, `image`, `digest`, `services`), as soon as it is known. */
  output(name: string, value: string): void
}

/**
 * What the run has on the runner until it ends, recorded as it is made and
 * released once it is gone, so that a cancelled or killed run can still be
 * cleaned up (src/leftovers.ts).
 */
export interface Leftovers {
  /** A file or folder to remove if the run cannot; returns its release. */
  path(file: string): () => void
  /** A child's process group (the child is its leader) to stop if the run is cancelled; returns its release. */
  processGroup(pid: number): () => void
  /**
   * Work a cancel must still do on the swarm (mark the release cancelled,
   * let go of the deploy lock), run before the children are stopped, newest
   * first and bounded to a couple of seconds; returns its release. `as` says
   * the same as data, for a front end whose process may be killed outright
   * (the Action's post step does it then).
   */
  onCancel?(fn: () => Promise<unknown>, as?: SwarmLeftover): () => void
}

/** A cancel hook as data: a release record still `deploying`, or a deploy lock still held, by its config ID. */
export interface SwarmLeftover {
  kind: 'release' | 'lock'
  stack: string
  id: string
}

/** The machine the engine runs on. */
export interface Host {
  /**
   * The environment of the process: env-passthrough reads it; children get
   * only the few variables docker needs from it (src/docker-cli.ts).
   */
  env: Readonly<Record<string, string | undefined>>
  leftovers: Leftovers
  /** Parent of the run's private scratch folder (RUNNER_TEMP on a runner). */
  tempDir: string
  files: {
    /** The file's bytes, or undefined when it is not a readable regular file. */
    read(path: string): Buffer | undefined
    write(path: string, text: string): Promise<void>
    remove(path: string): Promise<void>
  }
  now(): number
  sleep(ms: number): Promise<void>
  /** Peak resident memory of this process so far, for the stats. */
  maxRssBytes(): number
  /** This machine's name: a CLI run holds the deploy lock as user@hostname. */
  hostname?: string
}

/** How the engine reaches the outside world. */
export interface Adapters {
  /** The local docker CLI, with its config in `configDir` (the run's throwaway config). */
  dockerCli(configDir: string, host: Pick<Host, 'env' | 'leftovers'>, reporter: Reporter): DockerCli
  /** A unix socket at `socketPath` that reaches the target engine. */
  openTunnel(
    target: SshTarget | { kind: 'local' },
    socketPath: string,
    log: Pick<Reporter, 'info' | 'warn' | 'debug'>,
    host: Pick<Host, 'env' | 'leftovers'>
  ): Promise<DockerTunnel>
  /** The Engine API through that socket. */
  swarmApi(socketPath: string): SwarmApi
  /** Registry credentials for an ECR region, from the job's AWS credentials. */
  ecrToken: EcrTokenSource
  /** The GitHub REST API's deployments, at `baseUrl` (GITHUB_API_URL), for `owner/repo`. */
  github?: (token: string, baseUrl: string, repository: string) => DeploymentsClient
  /** Runs a Docker credential helper's `get` (a login the user's Docker config keeps in one); default: the program on PATH. */
  credentialHelper?: HelperRun
  /** The registries' HTTP API (a tag's digest for `build: false`); default: the global fetch. */
  registryFetch?: typeof fetch
  /** One GET of the smoke check (smoke-url); default: Node's fetch (src/smoke/http.ts). */
  smokeGet?: SmokeGet
}

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

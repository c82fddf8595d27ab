// The engine's three seams. Front ends (the Action, the CLI, in-process
// tests) implement them; the engine itself reads no process state and
// prints nothing directly.
import type { HelperRun, EcrTokenSource } from './ports/credentials.js'
import type { DeploymentsClient } from './ports/deployments.js'
import type { DockerCli } from './ports/docker-cli.js'
import type { SmokeGet } from './ports/smoke.js'
import type { SwarmApi } from './ports/swarm-api.js'
import type { LocalTarget, SshTarget } from './ports/target.js'
import type { DockerTunnel } from './ports/tunnel.js'

// The interfaces of the world's seams, each in its own file under src/ports/;
// implementations import them from here, never the other way round.
export type * from './ports/credentials.js'
export type * from './ports/deployments.js'
export type * from './ports/docker-cli.js'
export type * from './ports/smoke.js'
export type * from './ports/swarm-api.js'
export type * from './ports/target.js'
export type * from './ports/tunnel.js'

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
  /**
   * An output of the run (`status`, `image`, `digest`, `services`). The engine never calls it: it returns
   * the outcome, and the front ends write the outputs made from it (src/report/outputs.ts) through this.
   */
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
    target: SshTarget | LocalTarget,
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

// Every input of the Action, once, with all that is known of it: action.yml
// must match this table (a unit test checks it); the CLI's flags, file flags
// and --help, the secret inputs (masked, refused as flags, dropped from the
// environment) and the parsers' defaults are all derived from it.

/** How an input's text is read; what the CLI makes of its flag follows from it. */
export type InputKind =
  /** Text as it is. */
  | 'string'
  /** true or false (yes/no, 1/0): the CLI's `--name` alone means true, `--no-name` false. */
  | 'boolean'
  /** Like `90s`, `5m` or `1h30m`, or bare seconds (`600`). */
  | 'duration'
  /** A whole number. */
  | 'number'
  /** Several values, one per line: a CLI flag may be repeated. */
  | 'list'
  /** `KEY=VALUE` lines: a CLI flag may be repeated. */
  | 'map'

export interface InputSpec {
  name: string
  description: string
  /** The default action.yml gives, if any; the parsers fall back to it (`defaultOf`), the CLI passes it. */
  default?: string
  required?: boolean
  /** Absent: `string`. */
  kind?: InputKind
  /**
   * Secret-bearing: masked before anything prints, never a CLI flag value
   * or a --config key (it would land in shell history, `ps` or a committed
   * file), its variable dropped from the environment once read.
   */
  secret?: boolean
  /** Only parts of the value are secret (a URL's userinfo and query values): masked, and refused as a flag only when it has them. */
  secretParts?: 'url'
  /**
   * The CLI flag that gives the value from a file (`ssh-key-file`); every
   * secret input has one. When it names another input (`env-file`), that
   * input reads the file itself.
   */
  file?: string
}

export const INPUTS: readonly InputSpec[] = [
  {
    name: 'host',
    description:
      "Swarm manager address(es) (`name` or `name:port`), newline- or comma-separated, tried in order, the first that answers as a swarm manager serves. Empty deploys through the runner's own Docker engine (a self-hosted runner on a manager).",
    kind: 'list'
  },
  { name: 'port', kind: 'number', description: 'SSH port.', default: '22' },
  { name: 'user', description: 'SSH user (required with host). It must be able to run `docker` on the manager.' },
  {
    name: 'ssh-key',
    description: 'Private key (OpenSSH or PEM, no passphrase). Held in memory only, never written to disk.',
    secret: true,
    file: 'ssh-key-file'
  },
  { name: 'ssh-key-passphrase', description: 'Passphrase of an encrypted ssh-key.', secret: true, file: 'ssh-key-passphrase-file' },
  {
    name: 'known-hosts',
    description:
      'known_hosts line(s) for the manager, e.g. the output of `ssh-keyscan -p PORT HOST`. Required with host unless insecure-ignore-host-key is true.',
    kind: 'list',
    file: 'known-hosts-file'
  },
  {
    name: 'insecure-ignore-host-key',
    kind: 'boolean',
    description: 'Skip host key verification (logs a loud warning). Only for throwaway test setups.',
    default: 'false'
  },
  {
    name: 'jump-host',
    description:
      'Reach the managers through this SSH server (a bastion), `user@host:port` (user defaults to user, port to 22), by SSH port forwarding in the action itself: no ssh binary or config is used.'
  },
  {
    name: 'jump-ssh-key',
    description: 'Private key for jump-host (default: ssh-key; ssh-key-passphrase is used if it is encrypted).',
    secret: true,
    file: 'jump-ssh-key-file'
  },
  {
    name: 'jump-known-hosts',
    description: 'known_hosts line(s) for jump-host. Required with jump-host unless insecure-ignore-host-key is true.',
    kind: 'list'
  },
  {
    name: 'connect-timeout',
    kind: 'duration',
    description: 'Bound on reaching one manager (SSH handshake, then its engine), like `10s`; with several hosts each gets this long.',
    default: '10s'
  },
  {
    name: 'stack',
    description: "Stack name. Default: the repository's name (of GITHUB_REPOSITORY), lower-cased, other characters made `-`, at most 50 characters."
  },
  {
    name: 'compose-file',
    description:
      'Compose file(s), newline-separated, merged in order like repeated `-f`. Default: the first of `compose.yaml`, `compose.yml`, `docker-compose.yml`, `docker-compose.yaml` in the working directory, as `docker compose` looks for them. Files that use `include:`, `extends:` or `profiles:` are merged by the Docker Compose plugin on the runner (docs/compose.md).',
    kind: 'list'
  },
  {
    name: 'profiles',
    description:
      'Compose profiles to enable, as `docker compose --profile`, newline- or comma-separated (`*` for all). Services without `profiles:` are always deployed, the others only when one of theirs is given.',
    kind: 'list'
  },
  {
    name: 'image',
    description:
      'Repository to build and push, e.g. `docker.io/acme/api`. Empty deploys the compose file as it is. The compose file can use `${IMAGE}`, set to the pushed image pinned by digest.'
  },
  { name: 'tags', description: 'Tags to push, newline-separated. Default is the commit SHA. The first is the one deployed (by digest).', kind: 'list' },
  {
    name: 'build',
    kind: 'boolean',
    description:
      'With false, nothing is built or pushed: the first tag, which must already be in the registry, is deployed pinned to the digest the registry reports for it (read with the registry-* credentials or an earlier login). A missing tag fails the run and nothing is deployed.',
    default: 'true'
  },
  { name: 'context', description: 'Build context.', default: '.' },
  { name: 'dockerfile', description: 'Dockerfile, relative to the context.', default: 'Dockerfile' },
  { name: 'build-args', description: 'Build arguments, multiline `KEY=VALUE`.', kind: 'map' },
  {
    name: 'cache',
    description:
      "BuildKit build cache, used when the runner's docker has buildx. Empty is `type=gha` where the runner exposes the Actions cache, else `type=registry,ref=<image>:buildcache,mode=max` (none where buildx's docker driver runs on the classic image store, which cannot export a cache); `false` turns it off; anything else, e.g. `type=registry,ref=ghcr.io/o/r:cache,mode=max`, is passed as `--cache-from` and `--cache-to`, and refused before anything is built where the builder cannot export it. Without buildx it is not used (one warning)."
  },
  { name: 'platforms', description: 'Platforms to build for with buildx, e.g. `linux/amd64,linux/arm64`. Without buildx on the runner this is an error.' },
  { name: 'registry', description: 'Registry to log in to. Default is the registry of image.' },
  { name: 'registry-username', description: 'Username for the registry.' },
  {
    name: 'registry-password',
    description: 'Password or token for the registry. For ECR without these, the AWS credentials of the job are used.',
    secret: true,
    file: 'registry-password-file'
  },
  {
    name: 'env',
    description:
      'Multiline `KEY=VALUE` for compose interpolation, e.g. `DB_PASSWORD=${{ secrets.DB_PASSWORD }}`, or a JSON object such as `${{ toJSON(secrets) }}` (every string value secret; only the names the compose files read reach compose, and the log counts the others without naming them), and for `secrets:` entries with `environment:` sources (use those for credentials, since a value in `environment:` is stored in plain text in the service spec). Values are masked and redacted by length (8 characters or more everywhere, 4 to 7 as whole words, shorter ones not at all, with a warning). Only these values (and IMAGE, env-file, env-passthrough) reach the compose files; a referenced variable with no value and no default stops the deploy.',
    kind: 'map',
    secret: true,
    file: 'env-file'
  },
  {
    name: 'env-file',
    description:
      'A file of `KEY=VALUE` lines (read as data, never sourced) for compose interpolation; `env` overrides it. Values are masked like those of `env`.'
  },
  {
    name: 'env-passthrough',
    description:
      "Runner environment variables compose may also read. `true` for all but the runner's and the action's own (`ACTIONS_*`, `GITHUB_TOKEN`, `GH_TOKEN`, `INPUT_*`, `STATE_*`, `SWARM_DEPLOY_*`), or names separated by commas or newlines (`ACTIONS_*` are refused). Default none.",
    default: 'false',
    kind: 'list'
  },
  { name: 'timeout', kind: 'duration', description: 'Deadline for the whole rollout, like `90s`, `5m`, `1h` or bare seconds (`600`).', default: '10m' },
  {
    name: 'capacity-timeout',
    kind: 'duration',
    description:
      'How long tasks that no node has the CPU or memory for ("insufficient resources" on every node) may wait for one (a node joining, others freeing up) before the verdict is `failed`. Other reasons no node fits (constraints, platform, plugin) fail after 15s. A value given may not exceed timeout.',
    default: '15s'
  },
  {
    name: 'keep-replicas',
    kind: 'boolean',
    description:
      "An existing service keeps its live replica count (an autoscaler's, or `docker service scale`'s) instead of the compose file's; a new service gets the file's. Per service: the label `io.swarm-deploy.replicas: keep`.",
    default: 'false'
  },
  { name: 'prune', kind: 'boolean', description: 'Remove services no longer in the compose files (`--prune`).', default: 'false' },
  {
    name: 'rollback-on-failure',
    kind: 'boolean',
    description:
      'When Swarm pauses a failing update (`failure_action` pause, its default), ask it to roll back and report `rolled-back`. With false, report `failed` and leave the service paused.',
    default: 'true'
  },
  {
    name: 'rollback',
    description:
      'Redeploy a recorded release instead of the compose files: `previous` (the newest converged release before the live one), a release number, or a commit SHA (7 to 40 characters: its newest converged release). Nothing is built and image is ignored; values come from the current env.'
  },
  {
    name: 'keep-releases',
    kind: 'number',
    description:
      'Release records kept on the swarm (configs `<stack>_release_<n>`); older ones are removed, and secret and config versions a kept release uses are kept.',
    default: '10'
  },
  {
    name: 'prune-images',
    kind: 'boolean',
    description:
      "After a converged deploy, remove on every ready node the images of this stack's repositories that nothing needs: kept are the images tasks on the node use, every service's current and previous spec, and the kept releases' (keep-releases). Runs two short global-job services with the node's Docker socket mounted (docs/prune-images.md). With dry-run, lists what would be removed. Its result is the `pruned` output; it never changes the deploy's status.",
    default: 'false'
  },
  {
    name: 'prune-image',
    description:
      'The image of the prune-images jobs: a shell and a docker CLI. It gets no secret, no registry credential and no network; each node pulls it itself.',
    // The official docker:27.5.1-cli image pinned by its index digest, as many public Dockerfiles pin it (`COPY --from=docker:27.5.1-cli@sha256:851f91d2…`); not checked against Docker Hub from the lab, which cannot pull.
    default: 'docker:27.5.1-cli@sha256:851f91d241214e7c6db86513b270d58776379aacc5eb9c4a87e5b47115e3065c'
  },
  {
    name: 'prune-docker-socket',
    description:
      "Where each node's Docker engine socket is, mounted into the prune-images jobs; the templates of `docker service create --mount` work (`/run/docker-{{.Node.Hostname}}.sock`).",
    default: '/var/run/docker.sock'
  },
  {
    name: 'release-key',
    description:
      'Key(s) that sign the release records (HMAC-SHA256), one per line: the first signs, every line verifies (rotation). A rollback (rollback, on-failure rollback-stack) deploys only records whose proof verifies. Default: a key derived from ssh-key; without host, set it, or no record can be rolled back to. At least 16 characters a line, e.g. `openssl rand -hex 32`.',
    kind: 'list',
    secret: true,
    file: 'release-key-file'
  },
  {
    name: 'on-failure',
    description:
      "`swarm`: each service's own `failure_action`. `rollback-stack`: a deploy that does not converge puts the last converged release back for every service, waits for it, and reports `rolled-back`.",
    default: 'swarm'
  },
  {
    name: 'hooks-on-rollback',
    kind: 'boolean',
    description:
      'Run the pre-deploy and post-deploy hooks (`io.swarm-deploy.hook` services) on a rollback (rollback, on-failure rollback-stack) too. By default a rollback skips them: a migration must not run backwards by accident.',
    default: 'false'
  },
  {
    name: 'environment',
    description:
      'A GitHub environment: the run creates a deployment for it (statuses `in_progress`, then `success` or `failure`; older deployments go inactive on success). A missing token or permission is one warning, never a failed deploy.'
  },
  { name: 'environment-url', description: "The environment's URL, shown on the deployment." },
  {
    name: 'github-token',
    description: 'Token for GitHub Deployments (needs `deployments: write`).',
    default: '${{ github.token }}',
    secret: true,
    file: 'github-token-file'
  },
  {
    name: 'refresh-registry-auth',
    kind: 'boolean',
    description:
      'With true, nothing is built or deployed: a fresh login to registry (a new ECR token, or registry-username and registry-password) and each service of stack whose image is on that registry gets the new credential and nothing else; running tasks keep running. registry is required; compose-file, image and env are not read. For a scheduled workflow (ECR tokens last 12 hours). Output status is `refreshed` or `failed`.',
    default: 'false'
  },
  {
    name: 'smoke-url',
    description:
      'URL(s) to GET from the runner once the rollout converged, newline- or comma-separated, http or https: the verdict is `converged` only if each answers a status of smoke-expect within smoke-timeout (else `failed`, or with on-failure rollback-stack `rolled-back`). Redirects are not followed. Userinfo is sent as Basic auth; it and query values are masked.',
    kind: 'list',
    secretParts: 'url'
  },
  {
    name: 'smoke-timeout',
    kind: 'duration',
    description: 'How long the smoke URLs have to pass, like `60s` or `2m`; they are tried again after 1, 2, 4, then every 5 s.',
    default: '60s'
  },
  { name: 'smoke-expect', description: 'Status codes that pass the smoke check: codes and ranges, e.g. `200,204,300-399`.', default: '200-399' },
  {
    name: 'dry-run',
    kind: 'boolean',
    description:
      'Preview: build nothing, push nothing, change nothing on the swarm. Render the stack, read the live services and report per service `create`, `update` (with what differs, never a value), `unchanged` or `remove` (only with prune), in the `plan` output and the summary.',
    default: 'false'
  },
  {
    name: 'lock-timeout',
    kind: 'duration',
    description:
      'How long to wait for the deploy lock of the stack (a swarm config `<stack>_lock`) while another run holds it, like `90s`, `5m` or `1h`; then the run fails naming the holder, with nothing changed.',
    default: '5m'
  },
  {
    name: 'rebalance',
    kind: 'boolean',
    description:
      'With true, after a deploy that converged: each replicated service whose running tasks are spread unevenly over the nodes that can take them (a node joined since, for example) gets a rolling `--force` update with its own update config, and is judged again, bounded by a new timeout. With dry-run, the preview says which services would move, from where to where. See docs/rebalance.md; `swarm-deploy rebalance` does it alone.',
    default: 'false'
  }
]

export const OUTPUTS: ReadonlyArray<{ name: string; description: string }> = [
  {
    name: 'status',
    description:
      '`converged`, `failed`, `rolled-back`, `superseded` (someone else changed or removed a service during the rollout), `timed-out`, or `cancelled` (the run got SIGINT or SIGTERM: it stopped its docker commands and removed its files; Swarm goes on with what reached it). With refresh-registry-auth: `refreshed` or `failed`.'
  },
  { name: 'image', description: 'The deployed image, `repo:tag@sha256:…`.' },
  { name: 'digest', description: 'The deployed image digest, `sha256:…` (the one pushed, or with build false the one the registry reports for the tag).' },
  { name: 'release', description: 'The release live after the run (the newest converged one), as a number.' },
  { name: 'previous-release', description: 'The release that was live before the run.' },
  {
    name: 'services',
    description: 'JSON array: name, image, mode, running, desired, updateState, state (its verdict), message, change, nodes for each service of the stack.'
  },
  {
    name: 'registry-auth-expires',
    description: 'With an ECR login, when the token stored in the services expires (ISO 8601); refresh it before then (refresh-registry-auth).'
  },
  {
    name: 'plan',
    description:
      'With dry-run: JSON `{stack, services: [{name, action, image, changes}], kept, warnings}`, action `create`, `update`, `unchanged` or `remove`; changes name what differs, never a value.'
  },
  {
    name: 'pruned',
    description:
      'With prune-images: JSON `{status, nodes: [{node, hostname, state, why, removed, bytesFreed, refused, kept}]}`; status `done`, `partial` (some ready node could not be cleaned), `failed` or `previewed` (dry-run). Each image `{id, names, size}`; kept ones with `why`: `task`, `spec` or `release`.'
  }
]

const BY_NAME = new Map(INPUTS.map(spec => [spec.name, spec]))

/** The row of an input; an unknown name is a mistake in the code, not in the inputs. */
export function inputSpec(name: string): InputSpec {
  const spec = BY_NAME.get(name)
  if (!spec) throw new Error(`${name} is not an input of the table`)
  return spec
}

export function isInputName(name: string): boolean {
  return BY_NAME.has(name)
}

export function kindOf(spec: InputSpec): InputKind {
  return spec.kind ?? 'string'
}

/** Several values: the CLI takes the flag more than once, and --config a list. */
export function repeatable(spec: InputSpec): boolean {
  const kind = kindOf(spec)
  return kind === 'list' || kind === 'map'
}

/** The default the table gives an input: what an empty value means. */
export function defaultOf(name: string): string {
  const value = inputSpec(name).default
  if (value === undefined) throw new Error(`${name} has no default in the table`)
  return value
}

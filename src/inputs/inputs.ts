// Every input is read here, once, into a typed object. Nothing deeper in the
// code reads inputs or the runner's environment for configuration.
import type { RollbackTarget } from '../release/select.js'
import { parseRollback } from '../release/select.js'
import {
  ENV_KEY,
  InputError,
  normalizeRegistry,
  parseDuration,
  parseHosts,
  parseKeyValues,
  parseLines,
  parsePort,
  parseRepository,
  parseTags,
  readStackName,
  readBoolean,
  registryOf
} from './parse.js'
import type { BuildOptions } from './build-inputs.js'
import { readBuildOptions } from './build-inputs.js'
import type { LocalTarget, SshTarget } from '../ports.js'
import { readJumpHost } from './jump-host.js'
import { readPrivateKey } from './ssh-key.js'
import type { SmokeCheck } from './smoke-inputs.js'
import { readSmokeCheck } from './smoke-inputs.js'
import { defaultOf } from './table.js'
import { dotenvPath, parseDotenv } from './dotenv.js'
import { readEnvJson } from './env-json.js'

export interface ImageBuild extends BuildOptions {
  repository: string
  tags: string[]
  context: string
  dockerfile: string
  buildArgs: Map<string, string>
}

export interface RegistryAuth {
  registry: string
  username: string
  password: string
}

export interface Inputs {
  target: SshTarget | LocalTarget
  stack: string
  composeFiles: string[]
  image: ImageBuild | undefined
  /** The registry, with the credentials given as inputs; without them a credential source finds the login (src/registry/credentials/). */
  registry: RegistryAuth | { registry: string; username?: undefined } | undefined
  /** `env-file` then `env` (which wins): the values compose interpolation gets. */
  env: Map<string, string>
  /** Set when env came as a JSON object (`${{ toJSON(secrets) }}`): how many names it gave, most of which no compose file reads. */
  envJson?: { given: number } | undefined
  /** `.env` beside the first compose file, as docker compose reads it: not secret, and the weakest source of a value. */
  dotenv?: Map<string, string>
  /** Compose profiles to enable, as `docker compose --profile`; a service without profiles is always deployed. */
  profiles?: string[]
  /** Runner environment variables let through to compose too: all, or these names. */
  passthrough: 'all' | string[]
  timeoutMs: number
  /** How long tasks that wait only for CPU or memory may wait before failed (`capacity-timeout`). */
  capacityTimeoutMs?: number
  /** Existing services keep their live replica count (`keep-replicas`; per service, the label io.swarm-deploy.replicas: keep). */
  keepReplicas?: boolean
  prune: boolean
  /** On an update Swarm paused, ask it to roll back (else report failed, leave paused). */
  rollbackOnFailure: boolean
  /** Redeploy a recorded release instead of the compose files (nothing is built). */
  rollback: RollbackTarget | undefined
  /** Release records kept on the swarm. */
  keepReleases: number
  /** prune-images: after a converged deploy, the unused images of the stack's repositories removed on every node (src/prune-images/). */
  pruneImages?: PruneImagesInputs | undefined
  /** `swarm`: each service's own failure_action; `rollback-stack`: put the last converged release back for every service. */
  onFailure: 'swarm' | 'rollback-stack'
  /** Run the deploy hooks on a rollback too (by default a rollback skips them). */
  hooksOnRollback?: boolean
  /** GitHub Deployments for this environment, when it is set. */
  deployment: { environment: string; url: string | undefined; token: string } | undefined
  /** GET these URLs once the rollout converged: the verdict is converged only if they pass. */
  smoke?: SmokeCheck | undefined
  /** Preview only: build, push and change nothing; report what a deploy would do. */
  dryRun?: boolean
  /** After a converged deploy, move tasks of services spread unevenly over the nodes (src/rebalance/). */
  rebalance?: boolean
  /** How long to wait for another run's deploy lock of the stack. */
  lockTimeoutMs: number
  /** release-key lines: the first signs release records, each verifies. Empty: derived from ssh-key (src/release/proof.ts). */
  releaseKey: string[]
}

export type ReadInput = (name: string) => string

export interface InputContext {
  env: Record<string, string | undefined>
  /** Resolves a path from the workspace and says whether it is a file. */
  isFile: (path: string) => boolean
  /** Reads a file the inputs name (env-file). */
  readFile: (path: string) => string
}

export function getInputs(read: ReadInput, context: InputContext): Inputs {
  const stack = readStackName(read('stack'), context.env.GITHUB_REPOSITORY)
  const timeoutMs = parseDuration('timeout', read('timeout') || defaultOf('timeout'))
  const capacityTimeoutMs = readCapacityTimeout(read, timeoutMs)
  const prune = readBoolean(read, 'prune')
  const rollbackOnFailure = readBoolean(read, 'rollback-on-failure')
  const { env, envJson } = readEnv(read, context)
  if (env.has('IMAGE') && read('image').trim() !== '') {
    throw new InputError('env', 'IMAGE is set by the action to the pushed image; use another name')
  }

  const { rollback, keepReleases, onFailure } = readReleases(read)
  const composeFiles = readComposeFiles(read, context, rollback !== undefined)
  const dotenv = dotenvPath(composeFiles)

  return {
    target: readTarget(read),
    stack,
    composeFiles,
    image: readImage(read, context),
    registry: readRegistry(read),
    env,
    ...(envJson ? { envJson } : {}),
    dotenv: dotenv !== undefined && context.isFile(dotenv) ? parseDotenv(dotenv, context.readFile(dotenv)) : new Map(),
    profiles: readProfiles(read),
    passthrough: readPassthrough(read),
    timeoutMs,
    capacityTimeoutMs,
    keepReplicas: readBoolean(read, 'keep-replicas'),
    prune,
    rollbackOnFailure,
    rollback,
    keepReleases,
    pruneImages: readPruneImages(read),
    onFailure,
    hooksOnRollback: readBoolean(read, 'hooks-on-rollback'),
    deployment: readDeployment(read),
    smoke: readSmokeCheck(read),
    dryRun: readBoolean(read, 'dry-run'),
    rebalance: readBoolean(read, 'rebalance'),
    lockTimeoutMs: parseDuration('lock-timeout', read('lock-timeout') || defaultOf('lock-timeout')),
    releaseKey: readReleaseKey(read)
  }
}

/**
 * capacity-timeout: a wait the rollout's deadline would cut short is a mistake, said before anything
 * runs. The default is not: with a shorter timeout the deadline decides first, as it did before.
 */
function readCapacityTimeout(read: ReadInput, timeoutMs: number): number {
  const given = read('capacity-timeout').trim()
  const raw = given || defaultOf('capacity-timeout')
  const ms = parseDuration('capacity-timeout', raw)
  if (given && ms > timeoutMs) {
    throw new InputError(
      'capacity-timeout',
      `${raw} is longer than timeout (${read('timeout').trim() || defaultOf('timeout')}): the rollout would time out first; raise timeout too`
    )
  }
  return ms
}

/** A short key could be guessed offline from a record and its proof. */
const RELEASE_KEY_CHARS = 16

/** release-key: one key per line; never echoed. */
export function readReleaseKey(read: ReadInput): string[] {
  const lines = read('release-key')
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(Boolean)
  const short = lines.findIndex(line => line.length < RELEASE_KEY_CHARS)
  if (short >= 0)
    throw new InputError(
      'release-key',
      `line ${short + 1} is shorter than ${RELEASE_KEY_CHARS} characters: use a random key, e.g. the output of openssl rand -hex 32`
    )
  return lines
}

function readDeployment(read: ReadInput): Inputs['deployment'] {
  const environment = read('environment').trim()
  const url = read('environment-url').trim()
  if (environment === '') {
    if (url !== '') throw new InputError('environment-url', 'is set but environment is empty: name the environment it belongs to')
    return undefined
  }
  if (url !== '' && !/^https?:\/\/\S+$/.test(url)) throw new InputError('environment-url', `'${url}' is not an http or https URL`)
  // Outside a runner the default expression reaches the CLI as text: no token.
  const raw = read('github-token').trim()
  const token = /^\$\{\{.*\}\}$/.test(raw) ? '' : raw
  return { environment, url: url === '' ? undefined : url, token }
}

/** The cleanup's job image and each node's engine socket; undefined when prune-images is off. */
export interface PruneImagesInputs {
  image: string
  socket: string
}

export function readPruneImages(read: ReadInput): PruneImagesInputs | undefined {
  if (!readBoolean(read, 'prune-images')) return undefined
  const image = read('prune-image').trim() || defaultOf('prune-image')
  if (/\s/.test(image)) throw new InputError('prune-image', `'${image}' is not an image reference like docker:27-cli or repo@sha256:…`)
  const socket = read('prune-docker-socket').trim() || defaultOf('prune-docker-socket')
  if (!socket.startsWith('/') || /[\s,]/.test(socket))
    throw new InputError('prune-docker-socket', `'${socket}' is not an absolute path without spaces or commas`)
  return { image, socket }
}

function readReleases(read: ReadInput): Pick<Inputs, 'rollback' | 'keepReleases' | 'onFailure'> {
  const raw = read('rollback')
  const rollback = parseRollback(raw)
  if (raw.trim() !== '' && !rollback) {
    throw new InputError('rollback', `'${raw.trim()}' is not previous, a release number or a commit SHA (7 to 40 hex characters)`)
  }
  const keepRaw = read('keep-releases').trim() || defaultOf('keep-releases')
  if (!/^[1-9]\d{0,3}$/.test(keepRaw)) throw new InputError('keep-releases', `'${keepRaw}' is not a whole number from 1 to 9999`)
  const onFailure = read('on-failure').trim() || defaultOf('on-failure')
  if (onFailure !== 'swarm' && onFailure !== 'rollback-stack') throw new InputError('on-failure', `'${onFailure}' is not swarm or rollback-stack`)
  return { rollback, keepReleases: Number(keepRaw), onFailure }
}

/** `env-file` is data, never sourced: the same KEY=VALUE rules as `env`, which overrides it; `env` may also be a JSON object. */
function readEnv(read: ReadInput, context: InputContext): Pick<Inputs, 'env' | 'envJson'> {
  const file = read('env-file').trim()
  let fromFile = new Map<string, string>()
  if (file !== '') {
    if (!context.isFile(file)) throw new InputError('env-file', `'${file}' does not exist or is not a file`)
    fromFile = parseKeyValues('env-file', context.readFile(file))
  }
  const json = readEnvJson(read('env'))
  if (json) return { env: new Map([...fromFile, ...json.values]), envJson: { given: json.given } }
  return { env: new Map([...fromFile, ...parseKeyValues('env', read('env'))]) }
}

/** The names `docker compose` looks for, in its order, when no file is given. */
export const DEFAULT_COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml']

function readComposeFiles(read: ReadInput, context: InputContext, rollback: boolean): string[] {
  const given = parseLines(read('compose-file'))
  if (given.length === 0) {
    const found = DEFAULT_COMPOSE_FILES.find(name => context.isFile(name))
    if (found !== undefined) return [found]
    // A rollback deploys the compose text recorded on the swarm, not the checkout's.
    if (rollback) return []
    const names = `${DEFAULT_COMPOSE_FILES.slice(0, -1).join(', ')} or ${DEFAULT_COMPOSE_FILES.at(-1)}`
    throw new InputError('compose-file', `not given, and there is no ${names} in the working directory`)
  }
  if (!rollback)
    for (const file of given) {
      if (!context.isFile(file)) throw new InputError('compose-file', `'${file}' does not exist or is not a file`)
    }
  return given
}

// compose-go's profile names, and `*`, which enables them all.
const PROFILE = /^(?:\*|[a-zA-Z0-9][a-zA-Z0-9_.-]*)$/

function readProfiles(read: ReadInput): string[] {
  const names = read('profiles')
    .split(/[\s,]+/)
    .filter(Boolean)
  for (const name of names) {
    if (!PROFILE.test(name)) throw new InputError('profiles', `'${name}' is not a profile name: letters, digits, '_', '.' and '-', or * for all`)
  }
  return [...new Set(names)]
}

function readPassthrough(read: ReadInput): 'all' | string[] {
  const raw = read('env-passthrough').trim()
  if (raw === '' || raw === defaultOf('env-passthrough')) return []
  if (raw === 'true') return 'all'
  const names = raw.split(/[\s,]+/).filter(Boolean)
  for (const name of names) {
    if (!ENV_KEY.test(name))
      throw new InputError('env-passthrough', `'${name}' is not a variable name: give true, false, or names separated by commas or newlines`)
  }
  return names
}

export function readTarget(read: ReadInput): SshTarget | LocalTarget {
  const rawHost = read('host').trim()
  if (rawHost === '') {
    for (const name of ['user', 'ssh-key', 'known-hosts', 'jump-host']) {
      if (read(name).trim() !== '') throw new InputError(name, 'is set but host is empty: give host, or remove it to deploy to the local engine')
    }
    return { kind: 'local' }
  }
  const defaultPort = parsePort('port', read('port') || defaultOf('port'))
  const managers = parseHosts('host', rawHost, defaultPort)
  const { host, port } = managers[0]!
  const connectTimeoutMs = parseDuration('connect-timeout', read('connect-timeout') || defaultOf('connect-timeout'))
  const user = read('user').trim()
  if (user === '') throw new InputError('user', 'is required with host')
  if (!/^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$/.test(user)) throw new InputError('user', `'${user}' is not a valid user name`)

  const rawKey = read('ssh-key')
  if (rawKey.trim() === '') throw new InputError('ssh-key', 'is required with host')
  const { privateKey, passphrase } = readPrivateKey(rawKey, read('ssh-key-passphrase'))

  const insecureIgnoreHostKey = readBoolean(read, 'insecure-ignore-host-key')
  const knownHosts = read('known-hosts').trim()
  if (knownHosts === '' && !insecureIgnoreHostKey) {
    throw new InputError(
      'known-hosts',
      "is required with host: give the manager's known_hosts line(s) (ssh-keyscan -p PORT HOST), or set insecure-ignore-host-key: true"
    )
  }
  const jump = readJumpHost(read, { user, rawKey, passphraseInput: read('ssh-key-passphrase'), insecureIgnoreHostKey })
  return {
    kind: 'ssh',
    host,
    port,
    user,
    privateKey,
    knownHosts: knownHosts === '' ? undefined : knownHosts,
    insecureIgnoreHostKey,
    managers,
    connectTimeoutMs,
    passphrase,
    ...(jump ? { jump } : {})
  }
}

function readImage(read: ReadInput, context: InputContext): ImageBuild | undefined {
  const rawRepository = read('image').trim()
  if (rawRepository === '') {
    for (const name of ['tags', 'build-args', 'cache', 'platforms']) {
      if (read(name).trim() !== '') throw new InputError(name, 'is set but image is empty: nothing is built without image')
    }
    if (!readBoolean(read, 'build')) throw new InputError('build', 'is false but image is empty: give the image whose tag to deploy')
    return undefined
  }
  const repository = parseRepository('image', rawRepository)
  const options = readBuildOptions(read, context.env)
  const contextDir = read('context').trim() || defaultOf('context')
  const dockerfile = read('dockerfile').trim() || defaultOf('dockerfile')
  const dockerfilePath = dockerfile.startsWith('/') ? dockerfile : `${contextDir}/${dockerfile}`
  if (options.build && !context.isFile(dockerfilePath)) throw new InputError('dockerfile', `'${dockerfilePath}' does not exist or is not a file`)
  return {
    ...options,
    repository,
    tags: parseTags('tags', read('tags'), context.env.GITHUB_SHA),
    context: contextDir,
    dockerfile: dockerfilePath,
    buildArgs: parseKeyValues('build-args', read('build-args'))
  }
}

export function readRegistry(read: ReadInput): Inputs['registry'] {
  const username = read('registry-username').trim()
  const password = read('registry-password')
  const repository = read('image').trim()
  const registry = normalizeRegistry(read('registry').trim()) || (repository === '' ? '' : registryOf(repository))
  if ((username === '') !== (password.trim() === '')) {
    throw new InputError(username === '' ? 'registry-username' : 'registry-password', 'registry-username and registry-password go together')
  }
  if (registry === '') {
    if (username !== '') throw new InputError('registry', 'is empty and so is image: say which registry the credentials are for')
    return undefined
  }
  if (!/^[a-zA-Z0-9.-]+(?::\d+)?$/.test(registry))
    throw new InputError('registry', `'${registry}' is not a registry host like ghcr.io or registry.example.com:5000`)
  return username === '' ? { registry } : { registry, username, password }
}

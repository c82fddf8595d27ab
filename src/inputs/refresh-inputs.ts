// The inputs of a refresh (`refresh-registry-auth: true`): where the swarm
// is, the stack, and the registry whose credential its services get. Nothing
// is built or deployed, so the compose files and the image are not read.
import type { ReadInput, RegistryAuth } from './inputs.js'
import { readRegistry, readTarget } from './inputs.js'
import type { LocalTarget, SshTarget } from '../ports.js'
import { SELF_SERVED_ONLY, selfServed } from '../registry/credentials/sources.js'
import { InputError, parseDuration, parseStackName, readBoolean } from './parse.js'
import { defaultOf } from './table.js'

export interface RefreshInputs {
  target: SshTarget | LocalTarget
  stack: string
  /** With credentials, or a registry whose source gets a fresh token by itself (src/registry/credentials/). */
  registry: RegistryAuth | { registry: string; username?: undefined }
  /** The run's bound (`timeout`): how long the deploy lock it takes lasts if it dies. */
  timeoutMs: number
  /** How long to wait for a deploy of the stack that holds the lock (`lock-timeout`). */
  lockTimeoutMs: number
  /** Said once, before anything is done. */
  warnings: string[]
}

export function wantsRefresh(read: ReadInput): boolean {
  return readBoolean(read, 'refresh-registry-auth')
}

// Inputs that only a deploy reads: given to a refresh, they are a mistake worth a word.
const DEPLOY_ONLY = ['image', 'tags', 'build-args', 'cache', 'platforms', 'env', 'env-file', 'environment']

export function getRefreshInputs(read: ReadInput): RefreshInputs {
  const stack = parseStackName('stack', read('stack'))
  if (read('rollback').trim() !== '') throw new InputError('rollback', 'cannot go with refresh-registry-auth: true, which changes only the registry credential')
  // Refused, not ignored: a refresh given dry-run would change the services all the same.
  if (readBoolean(read, 'dry-run'))
    throw new InputError(
      'dry-run',
      'cannot go with refresh-registry-auth: true, which has no preview: it updates the stored credential of every service of the stack'
    )
  // A refresh starts no task, so there is no new release for a smoke check to judge.
  if (read('smoke-url').trim() !== '')
    throw new InputError('smoke-url', 'cannot go with refresh-registry-auth: true, which starts no task and deploys nothing for a smoke check to judge')
  // The registry is named outright: the image is not read.
  const registry = readRegistry(name => (name === 'image' ? '' : read(name)))
  if (registry === undefined) {
    throw new InputError('registry', "is required with refresh-registry-auth: true: the registry whose credential the stack's services get")
  }
  if (registry.username === undefined && !selfServed(registry.registry)) {
    throw new InputError(
      'registry-username',
      `is required with refresh-registry-auth: true for ${registry.registry}, with registry-password (${SELF_SERVED_ONLY})`
    )
  }
  // smoke-timeout and smoke-expect have defaults (the runner passes them): only another value is a mistake.
  const setSmoke = ['smoke-timeout', 'smoke-expect'].filter(name => ![defaultOf(name), ''].includes(read(name).trim()))
  const warnings = [...DEPLOY_ONLY.filter(name => read(name).trim() !== ''), ...setSmoke].map(
    name => `${name}: not used with refresh-registry-auth: true, which deploys nothing and changes only the registry credential`
  )
  return {
    target: readTarget(read),
    stack,
    registry,
    timeoutMs: parseDuration('timeout', read('timeout') || defaultOf('timeout')),
    lockTimeoutMs: parseDuration('lock-timeout', read('lock-timeout') || defaultOf('lock-timeout')),
    warnings
  }
}

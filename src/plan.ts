// The plan: everything that can be checked without the network, checked
// before the first side effect (login, build, push, connect). A bad plan
// builds nothing, pushes nothing (no tag moves) and deploys nothing.
import { createHash } from 'node:crypto'
import { hostKeyAlgorithms, hostKeyName, parseKnownHosts } from './connect/known-hosts.js'
import type { Rollout } from './converge/rollout.js'
import { rolloutOf } from './converge/rollout.js'
import { stageProblems } from './deploy/stage-plan.js'
import { composeVariableProblems, interpolationValues, referencedNames, sourceReader, swarmNameProblems } from './deploy/stack-deploy.js'
import type { StackObject } from './deploy/stack-objects.js'
import { renderStackObjects } from './deploy/stack-objects.js'
import { findEnvironmentUses } from './deploy/variables.js'
import type { Inputs } from './inputs/inputs.js'
import type { ReleaseKeys } from './release/proof.js'
import { releaseKeysOf } from './release/proof.js'
import type { Host } from './ports.js'

/** Bad input found while planning: nothing was done. */
export class PlanError extends Error {
  override name = 'PlanError'
}

export interface ComposeFile {
  path: string
  text: string
  /** Merged by docker compose (src/deploy/normalise.ts): held in memory, written to the run's work dir once there is one. */
  merged?: boolean
}

export interface Plan {
  inputs: Inputs
  compose: ComposeFile[]
  /** Compose interpolation values, IMAGE not yet included. */
  values: Map<string, string>
  /**
   * The secrets and configs the deploy will create or name. Their names are
   * checked here for length with a stand-in key: the real one (secretKeyOf)
   * is known only once the swarm answers, and the hash is as long whatever
   * the key.
   */
  objects: StackObject[]
  /** Runner variables let through by env-passthrough that the compose files read: secret like the env input. */
  passedSecrets: Array<{ name: string; value: string }>
  /** The env input's names the compose files read (for env as JSON, of which most names are never used). */
  envUsed: string[]
  /** Said once, before anything is done. */
  warnings: string[]
  rollout: Rollout
  /** What signs this run's release records and checks the stack's (src/release/proof.ts). */
  releaseKeys: ReleaseKeys
}

/** Stands in for IMAGE, which is known only after the push. */
const IMAGE_LATER = 'set after the push'

/** known-hosts has a key for every manager that may serve (so that a failover cannot stop on a missing line). */
export function checkKnownHosts(target: Inputs['target']): void {
  if (target.kind !== 'ssh' || target.knownHosts === undefined) return
  let entries
  try {
    entries = parseKnownHosts(target.knownHosts)
  } catch (error) {
    throw new PlanError(`${(error as Error).message}. Nothing was deployed.`)
  }
  for (const manager of target.managers ?? [{ host: target.host, port: target.port }]) {
    if (hostKeyAlgorithms(entries, manager.host, manager.port).length === 0) {
      throw new PlanError(
        `known-hosts: has no key for ${hostKeyName(manager.host, manager.port)}: add the line(s) ssh-keyscan -p ${manager.port} ${manager.host} prints. Nothing was deployed.`
      )
    }
  }
}

/** The compose files as given, read (a rollback's come from its release record). */
export function readComposeFiles(inputs: Inputs, host: Pick<Host, 'files'>): ComposeFile[] {
  return (inputs.rollback ? [] : inputs.composeFiles).map(file => {
    const bytes = host.files.read(file)
    if (bytes === undefined) throw new PlanError(`compose-file: '${file}' cannot be read`)
    return { path: file, text: bytes.toString('utf8') }
  })
}

/** @param normalised the compose files as docker stack deploy will read them (src/deploy/normalise.ts); default: as given. */
export function makePlan(inputs: Inputs, host: Pick<Host, 'env' | 'files'>, normalised?: ComposeFile[]): Plan {
  checkKnownHosts(inputs.target)

  // A missing secret must stop the run, not become an empty string.
  // A rollback's compose text comes from its release record, checked once it is read from the swarm.
  const compose = inputs.rollback ? [] : (normalised ?? readComposeFiles(inputs, host))
  // .env is the weakest source, as for docker compose, where the shell's variables win over it.
  const values = new Map([...(inputs.dotenv ?? []), ...interpolationValues(inputs.env, inputs.passthrough, host.env)])
  const withImage = inputs.image ? new Map([...values, ['IMAGE', IMAGE_LATER]]) : values
  const problems = composeVariableProblems(compose, withImage)
  if (problems.length > 0) throw new PlanError(`${problems.join('\n')}\nNothing was deployed.`)
  // docker stack deploy would create the services before such a name, then stop half done.
  const tooLong = swarmNameProblems(compose, inputs.stack)
  if (tooLong.length > 0) throw new PlanError(`${tooLong.join('\n')}. Nothing was deployed.`)
  const staging = stageProblems(compose)
  if (staging.length > 0) throw new PlanError(`${staging.join('\n')}\nNothing was deployed.`)

  // Secret and config sources that exist and are set, and names Swarm accepts.
  let objects: StackObject[]
  try {
    objects = renderStackObjects(compose, {
      stack: inputs.stack,
      values: withImage,
      readSource: sourceReader(inputs.composeFiles, host.files.read),
      secretKey: PLAN_KEY
    }).objects
  } catch (error) {
    throw new PlanError(`${(error as Error).message}\nNothing was deployed.`)
  }
  const passedSecrets = passedSecretsOf(compose, values, inputs.env, inputs.dotenv)
  const read = referencedNames(compose)
  return {
    inputs,
    compose,
    values,
    objects,
    passedSecrets,
    envUsed: [...inputs.env.keys()].filter(name => read.has(name)),
    warnings: credentialWarnings(compose, inputs.env),
    rollout: rolloutOf(inputs),
    releaseKeys: releaseKeysOf(inputs.releaseKey, inputs.target)
  }
}

/**
 * The values env-passthrough lets through that the compose files read: as
 * secret as env. A rollback reads the recorded files, known only once the
 * record is read, and asks again with those.
 */
export function passedSecretsOf(
  compose: ComposeFile[],
  values: ReadonlyMap<string, string>,
  env: ReadonlyMap<string, string>,
  dotenv: ReadonlyMap<string, string> = new Map()
): Array<{ name: string; value: string }> {
  const read = referencedNames(compose)
  // A value .env gave (and no runner variable overrode) is not a secret: the repository holds it.
  const fromDotenv = (name: string, value: string): boolean => dotenv.get(name) === value
  return [...values].filter(([name, value]) => read.has(name) && !env.has(name) && !fromDotenv(name, value)).map(([name, value]) => ({ name, value }))
}

/** Only for the plan's name checks: a versioned name is as long whatever the key. */
const PLAN_KEY = Buffer.alloc(32)

/**
 * The key for secret version names: stable across runs, never printed, and
 * secret in every mode: the swarm's cluster ID, which only its managers know
 * (read over the Engine API once connected), with the stack name. Someone
 * who sees `<stack>_db_password_<hash>` cannot test guesses of the value
 * offline without it.
 */
export function secretKeyOf(stack: string, clusterId: string): Buffer {
  return createHash('sha256').update(`swarm-deploy secret versions\0${stack}\0${clusterId}`).digest()
}

/** A name that reads as a credential: PASSWORD (PASSWD) anywhere, or a part TOKEN, SECRET, KEY (or their plurals, APIKEY). */
export function looksLikeCredential(name: string): boolean {
  const upper = name.toUpperCase()
  if (/PASSW(OR)?D/.test(upper)) return true
  return upper.split('_').some(part => /^(API)?(TOKEN|SECRET|KEY)S?$/.test(part) || /(TOKEN|SECRET|APIKEY)S?$/.test(part))
}

/**
 * One warning for `env` values with credential-like names that compose puts
 * in a service's `environment:`: there they are in the service spec, the task
 * records and every container's config, in plain text on the nodes. Pure.
 */
export function credentialWarnings(compose: ComposeFile[], env: ReadonlyMap<string, string>): string[] {
  const uses = compose.flatMap(file => findEnvironmentUses(file.text, file.path)).filter(use => env.has(use.name) && looksLikeCredential(use.name))
  if (uses.length === 0) return []
  const seen = new Set<string>()
  const where = uses.filter(use => !seen.has(use.name) && seen.add(use.name)).map(use => `${use.name} (service ${use.service}, ${use.file} line ${use.line})`)
  return [
    `env: ${where.join(', ')} ${uses.length === 1 ? 'goes' : 'go'} into environment:, where Docker keeps the value in plain text in the service spec, task records and every container's config on the nodes, and anyone who can run docker inspect there reads it. For credentials use secrets: with an environment: source (the README's "Secrets and configs"), which the service reads from /run/secrets/.`
  ]
}

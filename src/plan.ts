// The plan: everything that can be checked without the network, checked
// before the first side effect (login, build, push, connect). A bad plan
// builds nothing, pushes nothing (no tag moves) and deploys nothing.
import { createHash } from 'node:crypto'
import { hostKeyAlgorithms, hostKeyName, parseKnownHosts } from './connect/known-hosts.js'
import type { Rollout } from './converge/rollout.js'
import { rolloutOf } from './converge/rollout.js'
import { composeVariableProblems, interpolationValues, sourceReader, swarmNameProblems } from './deploy/stack-deploy.js'
import type { StackObject } from './deploy/stack-objects.js'
import { renderStackObjects } from './deploy/stack-objects.js'
import type { Inputs } from './inputs/inputs.js'
import type { Host } from './ports.js'

/** Bad input found while planning: nothing was done. */
export class PlanError extends Error {
  override name = 'PlanError'
}

export interface ComposeFile {
  path: string
  text: string
}

export interface Plan {
  inputs: Inputs
  compose: ComposeFile[]
  /** Compose interpolation values, IMAGE not yet included. */
  values: Map<string, string>
  /** Keys secret version names (see secretKeyOf). */
  secretKey: Buffer
  /** The secrets and configs the deploy will create or name, with their versioned names. */
  objects: StackObject[]
  rollout: Rollout
}

/** Stands in for IMAGE, which is known only after the push. */
const IMAGE_LATER = 'set after the push'

export function makePlan(inputs: Inputs, host: Pick<Host, 'env' | 'files'>): Plan {
  if (inputs.target.kind === 'ssh' && inputs.target.knownHosts !== undefined) {
    const { host: name, port } = inputs.target
    let entries
    try {
      entries = parseKnownHosts(inputs.target.knownHosts)
    } catch (error) {
      throw new PlanError(`${(error as Error).message}. Nothing was deployed.`)
    }
    // Every manager that may serve, so that a failover cannot stop on a missing line.
    for (const manager of inputs.target.managers ?? [{ host: name, port }]) {
      if (hostKeyAlgorithms(entries, manager.host, manager.port).length === 0) {
        throw new PlanError(`known-hosts: has no key for ${hostKeyName(manager.host, manager.port)}: add the line(s) ssh-keyscan -p ${manager.port} ${manager.host} prints. Nothing was deployed.`)
      }
    }
  }

  // A missing secret must stop the run, not become an empty string.
  const compose = inputs.composeFiles.map(file => {
    const bytes = host.files.read(file)
    if (bytes === undefined) throw new PlanError(`compose-file: '${file}' cannot be read`)
    return { path: file, text: bytes.toString('utf8') }
  })
  const values = interpolationValues(inputs.env, inputs.passthrough, host.env)
  const withImage = inputs.image ? new Map([...values, ['IMAGE', IMAGE_LATER]]) : values
  const problems = composeVariableProblems(compose, withImage)
  if (problems.length > 0) throw new PlanError(`${problems.join('\n')}\nNothing was deployed.`)
  // docker stack deploy would create the services before such a name, then stop half done.
  const tooLong = swarmNameProblems(compose, inputs.stack)
  if (tooLong.length > 0) throw new PlanError(`${tooLong.join('\n')}. Nothing was deployed.`)

  // Secret and config sources that exist and are set, and names Swarm accepts.
  const secretKey = secretKeyOf(inputs)
  let objects: StackObject[]
  try {
    objects = renderStackObjects(compose, { stack: inputs.stack, values: withImage, readSource: sourceReader(inputs.composeFiles, host.files.read), secretKey }).objects
  } catch (error) {
    throw new PlanError(`${(error as Error).message}\nNothing was deployed.`)
  }
  return { inputs, compose, values, secretKey, objects, rollout: rolloutOf(inputs) }
}

/**
 * A key for secret version names that is stable across runs and never leaves
 * the runner: derived from the SSH key (rotating it renames secret versions
 * once). Without SSH only the stack name keys it, which still defeats
 * precomputed tables but not a guess aimed at this stack.
 */
export function secretKeyOf(inputs: Inputs): Buffer {
  const ssh = inputs.target.kind === 'ssh' ? inputs.target.privateKey : ''
  return createHash('sha256').update(`swarm-deploy secret versions\0${inputs.stack}\0${ssh}`).digest()
}

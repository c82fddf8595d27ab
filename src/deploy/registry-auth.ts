// The registry credential Swarm keeps in each service's spec, for the nodes
// that pull later (a task rescheduled after a node failure, a new node).
// Which services a refresh updates, and the form the credential travels in.
// Pure.
import type { RegistryAuth } from '../inputs/inputs.js'
import { registryOf } from '../inputs/parse.js'
import type { Service, UpdateState } from '../swarm/model.js'

/**
 * The X-Registry-Auth header: the credential as JSON in base64url with its
 * padding, which the daemon decodes (Go's base64.URLEncoding needs the
 * padding) and stores in the spec as it is. Docker Hub's server address is
 * the one the docker CLI uses for it.
 */
export function encodeRegistryAuth(auth: RegistryAuth): string {
  const serveraddress = auth.registry === 'docker.io' ? 'https://index.docker.io/v1/' : auth.registry
  return Buffer.from(JSON.stringify({ username: auth.username, password: auth.password, serveraddress }))
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
}

export type RefreshDecision =
  | { kind: 'update' }
  /** Its image is on another registry: the refreshed credential is not for it. */
  | { kind: 'other-registry'; reason: string }
  /** A rollout is under way or paused: a service update now would restart or resume it. */
  | { kind: 'busy'; reason: string }

const BUSY: Partial<Record<UpdateState, string>> = {
  updating: 'a rolling update is under way',
  rollback_started: 'a rollback is under way',
  paused: 'its update is paused (an update now would resume it)',
  rollback_paused: 'its rollback is paused (an update now would resume it)'
}

/**
 * Whether to give this service the new credential. Any update of a service
 * restarts Swarm's updater for it, so a service in the middle of a rollout,
 * or with one paused, is left alone: refreshing it must not roll anything out.
 */
export function refreshDecision(service: Service, registry: string): RefreshDecision {
  const image = service.Spec.TaskTemplate.ContainerSpec?.Image ?? ''
  const from = image === '' ? '' : registryOf(image.split('@')[0]!)
  if (from !== registry) return { kind: 'other-registry', reason: `its image ${image || '(none)'} is not on ${registry}` }
  const state = service.UpdateStatus?.State
  const busy = state ? BUSY[state] : undefined
  if (busy) return { kind: 'busy', reason: `${busy}: run the refresh again once it has ended` }
  return { kind: 'update' }
}

/** Swarm refuses an update made from a spec someone changed since it was read. */
export function isOutOfSequence(error: unknown): boolean {
  return /update out of sequence/i.test(error instanceof Error ? error.message : String(error))
}

/** How often a refresh reads a service again after `update out of sequence` before it gives up. */
export const UPDATE_ATTEMPTS = 3

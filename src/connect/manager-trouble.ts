// Why a manager that answers SSH cannot serve the run, read from what its
// engine (or `docker system dial-stdio` on it) said: its engine is down, it
// is no longer a manager, or the swarm has lost its quorum. Pure: the texts
// in, a kind and words a person can act on out. The texts are Docker's own,
// as the three-manager cluster (lab/cluster.sh) gives them on 20.10 and 28.5.
import { unreachable } from '../exhaustive.js'

/** What keeps a reachable manager from serving. */
export type ManagerTrouble = 'engine-down' | 'not-manager' | 'no-quorum'

// "failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: no such file or directory"
// (a 28.x CLI), "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
const ENGINE_DOWN = [
  /cannot connect to the docker daemon/i,
  /is the docker daemon running/i,
  /failed to open the raw stream connection/i,
  /dial unix \S+: connect: (no such file or directory|connection refused)/i
]
// "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. ..."
// A demoted manager says it, and so does an engine 20.10 that is stopping, for a moment before
// its API goes (lab/cluster.sh on 20.10: each of three stops).
const NOT_MANAGER = /this node is not a swarm manager/i
// "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. ..."
// "rpc error: code = Unknown desc = raft: failed to process the request: node lost leader status"
const NO_QUORUM = [/the swarm does not have a leader/i, /too few managers are online/i, /node lost leader status/i, /raft: no elected cluster leader/i]

export function troubleOf(text: string): ManagerTrouble | undefined {
  if (NO_QUORUM.some(pattern => pattern.test(text))) return 'no-quorum'
  if (NOT_MANAGER.test(text)) return 'not-manager'
  if (ENGINE_DOWN.some(pattern => pattern.test(text))) return 'engine-down'
  return undefined
}

export const QUORUM_LOST =
  'the swarm has lost its quorum: it has no leader, so Swarm changes nothing (more than half of its managers must be up for it to elect one; if they are, it is electing one now)'

export function troubleReason(trouble: ManagerTrouble): string {
  switch (trouble) {
    case 'engine-down':
      return 'its Docker engine is not running (docker system dial-stdio cannot connect to it)'
    case 'not-manager':
      return 'it says it is not a swarm manager (demoted to worker, or its engine is stopping)'
    case 'no-quorum':
      return QUORUM_LOST
    default:
      return unreachable(trouble)
  }
}

/**
 * What to say when no manager serves, from each manager's reason: a lost
 * quorum first, since it is why the rest does not help. `managers`: how many
 * `host` names.
 */
export function noManagerReason(reasons: Array<{ manager: string; reason: string }>, managers: number = reasons.length): string {
  const leaderless = (reason: string): boolean => troubleOf(reason) === 'no-quorum' || reason.includes(QUORUM_LOST)
  // More than half of the managers with their engine stopped is a lost quorum too: the one left
  // may not even answer /info then (it waits for a leader), as on lab/cluster.sh with engine 28.
  const stopped = reasons.filter(({ reason }) => reason === troubleReason('engine-down')).length
  const quorum = reasons.some(({ reason }) => leaderless(reason)) || (managers > 1 && stopped > managers / 2)
  // The quorum said once, in front: each manager's part in a few words.
  const each = reasons.map(({ manager, reason }) => `${manager}: ${quorum && leaderless(reason) ? 'up, with no leader' : reason}`).join('; ')
  return quorum ? `${QUORUM_LOST} (${each})` : `no manager serves (${each})`
}

/** The manager to try after `lost`: the next ones in turn, `failures` tried already, so the lost one comes last. */
export function nextManagerIndex(lost: number, failures: number, count: number): number {
  return count <= 1 ? 0 : (lost + 1 + failures) % count
}

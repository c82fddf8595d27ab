// Release records on the swarm, through the Engine API: one labelled config
// per release, numbered per stack. Two deploys that pick the same number
// race on the config's name, and the loser takes the next one. Each record
// carries a proof (proof.ts) that this project wrote it as it is; one that
// has none, or a wrong one, is refused when read.
import type { SwarmApi } from '../ports.js'
import { STACK_LABEL } from '../swarm/model.js'
import type { RefusedRecord, ReleaseKeys } from './proof.js'
import { signedLabels, trustRecord } from './proof.js'
import type { Release, ReleaseData, ReleaseStatus } from './record.js'
import { dataDigest, encodeRelease, RELEASE_LABEL, releaseName, sortReleases } from './record.js'

type ReleaseApi = Pick<SwarmApi, 'listConfigs' | 'createConfig' | 'setConfigLabels' | 'removeObject'>

/** The stack's records: those this run trusts, newest first, and those it refused. */
export interface ReleaseHistory {
  releases: Release[]
  refused: RefusedRecord[]
}

export async function loadReleases(api: Pick<SwarmApi, 'listConfigs'>, stack: string, keys: ReleaseKeys): Promise<ReleaseHistory> {
  const configs = await api.listConfigs({ [STACK_LABEL]: stack, [RELEASE_LABEL]: '' })
  const releases: Release[] = []
  const refused: RefusedRecord[] = []
  for (const config of configs) {
    const checked = trustRecord(config, stack, keys)
    if ('release' in checked) releases.push(checked.release)
    else refused.push(checked.refused)
  }
  return { releases: sortReleases(releases), refused: refused.sort((a, b) => (b.number ?? 0) - (a.number ?? 0)) }
}

/** The next free number: refused records count too, so a new record never collides with one. */
function nextNumber(history: ReleaseHistory): number {
  return Math.max(0, ...history.releases.map(r => r.number), ...history.refused.map(r => r.number ?? 0)) + 1
}

export async function createRelease(api: ReleaseApi, data: Omit<ReleaseData, 'number'>, known: ReleaseHistory, keys: ReleaseKeys): Promise<Release> {
  let number = nextNumber(known)
  for (let attempt = 0; attempt < 20; attempt++, number++) {
    const full: ReleaseData = { ...data, number }
    const name = releaseName(data.stack, number)
    const bytes = encodeRelease(full)
    const digest = dataDigest(bytes)
    if ((await api.createConfig(name, bytes, signedLabels(data.stack, number, digest, 'deploying', keys.sign))) === 'exists') continue
    const stored = (await api.listConfigs({ [STACK_LABEL]: data.stack, [RELEASE_LABEL]: String(number) })).find(c => c.name === name)
    if (!stored) throw new Error(`release ${name} was created but cannot be read back`)
    return { ...full, status: 'deploying', id: stored.id, version: stored.version, digest }
  }
  throw new Error(`could not pick a release number for ${data.stack}: ${releaseName(data.stack, number)} and the 19 before it exist`)
}

/** The status label, and the proof made anew for it: a label changed by anyone else no longer verifies. */
export async function setStatus(api: ReleaseApi, release: Release, status: ReleaseStatus, keys: ReleaseKeys): Promise<Release> {
  // A config's version is the raft index of its last change: read it fresh, as Swarm refuses a stale one.
  const name = releaseName(release.stack, release.number)
  const current = (await api.listConfigs({ [STACK_LABEL]: release.stack, [RELEASE_LABEL]: String(release.number) })).find(c => c.id === release.id)
  if (!current) throw new Error(`release ${name} is no longer on the swarm`)
  await api.setConfigLabels({ id: release.id, version: current.version, name }, signedLabels(release.stack, release.number, release.digest, status, keys.sign))
  return { ...release, status }
}

/**
 * Keeps the newest `keep`, and the live one (the newest converged) whatever its age; returns the kept ones.
 * Only trusted releases are given: a refused record is left alone, whoever wrote it.
 */
export async function pruneReleases(api: ReleaseApi, releases: Release[], keep: number, log: (line: string) => void): Promise<Release[]> {
  const kept = keptReleases(releases, keep)
  // At once: each removal is a round trip to the manager, and the run's end waits for the last.
  const gone = sortReleases(releases).filter(r => !kept.includes(r))
  const results = await Promise.allSettled(gone.map(release => api.removeObject('config', release.id)))
  for (const [i, result] of results.entries()) {
    if (result.status === 'rejected') throw result.reason
    log(`Removed release #${gone[i]!.number} (${releaseName(gone[i]!.stack, gone[i]!.number)})`)
  }
  return kept
}

/** The newest `keep`, and the live one (the newest converged) whatever its age, newest first. */
export function keptReleases(releases: Release[], keep: number): Release[] {
  const sorted = sortReleases(releases)
  const live = sorted.find(r => r.status === 'converged')
  return sorted.filter((r, i) => i < keep || r === live)
}

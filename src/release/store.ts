// Release records on the swarm, through the Engine API: one labelled config
// per release, numbered per stack. Two deploys that pick the same number
// race on the config's name, and the loser takes the next one.
import type { SwarmApi } from '../swarm/api.js'
import { STACK_LABEL } from '../swarm/model.js'
import type { Release, ReleaseData, ReleaseStatus } from './record.js'
import { decodeRelease, encodeRelease, nextNumber, RELEASE_LABEL, releaseLabels, releaseName, sortReleases } from './record.js'

type ReleaseApi = Pick<SwarmApi, 'listConfigs' | 'createConfig' | 'setConfigLabels' | 'removeObject'>

/** The stack's releases, newest first. */
export async function loadReleases(api: Pick<SwarmApi, 'listConfigs'>, stack: string): Promise<Release[]> {
  const configs = await api.listConfigs({ [STACK_LABEL]: stack, [RELEASE_LABEL]: '' })
  return sortReleases(configs.flatMap(c => decodeRelease(c) ?? []))
}

export async function createRelease(api: ReleaseApi, data: Omit<ReleaseData, 'number'>, known: Release[]): Promise<Release> {
  let number = nextNumber(known)
  for (let attempt = 0; attempt < 20; attempt++, number++) {
    const full: ReleaseData = { ...data, number }
    const name = releaseName(data.stack, number)
    if ((await api.createConfig(name, encodeRelease(full), releaseLabels(data.stack, number, 'deploying'))) === 'exists') continue
    const stored = (await api.listConfigs({ [STACK_LABEL]: data.stack, [RELEASE_LABEL]: String(number) })).find(c => c.name === name)
    if (!stored) throw new Error(`release ${name} was created but cannot be read back`)
    return { ...full, status: 'deploying', id: stored.id, version: stored.version }
  }
  throw new Error(`could not pick a release number for ${data.stack}: ${releaseName(data.stack, number)} and the 19 before it exist`)
}

export async function setStatus(api: ReleaseApi, release: Release, status: ReleaseStatus): Promise<Release> {
  // A config's version is the raft index of its last change: read it fresh, as Swarm refuses a stale one.
  const name = releaseName(release.stack, release.number)
  const current = (await api.listConfigs({ [STACK_LABEL]: release.stack, [RELEASE_LABEL]: String(release.number) })).find(c => c.id === release.id)
  if (!current) throw new Error(`release ${name} is no longer on the swarm`)
  await api.setConfigLabels({ id: release.id, version: current.version, name }, releaseLabels(release.stack, release.number, status))
  return { ...release, status }
}

/** Keeps the newest `keep`, and the live one (the newest converged) whatever its age; returns the kept ones. */
export async function pruneReleases(api: ReleaseApi, releases: Release[], keep: number, log: (line: string) => void): Promise<Release[]> {
  const sorted = sortReleases(releases)
  const live = sorted.find(r => r.status === 'converged')
  const kept = sorted.filter((r, i) => i < keep || r === live)
  for (const release of sorted.filter(r => !kept.includes(r))) {
    await api.removeObject('config', release.id)
    log(`Removed release #${release.number} (${releaseName(release.stack, release.number)})`)
  }
  return kept
}

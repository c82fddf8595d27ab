// Which release a rollback puts back, and the release list as text. Pure.
import type { RefusedRecord } from './proof.js'
import { refusedLine } from './proof.js'
import type { Release } from './record.js'
import { sortReleases } from './record.js'

export type RollbackTarget = { kind: 'previous' } | { kind: 'number'; number: number } | { kind: 'sha'; sha: string }

/** A rollback that cannot be done: nothing was changed. */
export class ReleaseError extends Error {
  override name = 'ReleaseError'
}

export function parseRollback(raw: string): RollbackTarget | undefined {
  const text = raw.trim()
  if (text === '') return undefined
  if (text === 'previous') return { kind: 'previous' }
  // Seven digits or more read as a commit: a SHA prefix can be all digits.
  if (/^[1-9]\d{0,5}$/.test(text)) return { kind: 'number', number: Number(text) }
  if (/^[0-9a-f]{7,40}$/i.test(text)) return { kind: 'sha', sha: text.toLowerCase() }
  return undefined
}

/** The release live now: the newest that converged. */
export function liveRelease(releases: Release[]): Release | undefined {
  return sortReleases(releases).find(r => r.status === 'converged')
}

/**
 * The release a rollback puts back, among those this run trusts. A number
 * that only a refused record has is named with the reason it was refused.
 */
export function chooseRelease(releases: Release[], target: RollbackTarget, stack: string, refused: readonly RefusedRecord[] = []): Release {
  const sorted = sortReleases(releases)
  if (target.kind === 'number' && !sorted.some(r => r.number === target.number)) {
    const record = refused.find(r => r.number === target.number)
    if (record)
      throw new ReleaseError(
        `rollback: release #${target.number} of stack ${stack} is not one this project wrote, or it was changed since: ${refusedLine(record)}. Nothing was changed.`
      )
  }
  if (sorted.length === 0) {
    throw new ReleaseError(
      refused.length === 0
        ? `rollback: stack ${stack} has no releases yet: deploy it once before rolling back. Nothing was changed.`
        : `rollback: stack ${stack} has no release this run can trust (${refused.length} refused: ${refusedLine(refused[0]!)}${refused.length > 1 ? ', …' : ''}): deploy it once before rolling back. Nothing was changed.`
    )
  }
  const unknown = (what: string): ReleaseError =>
    new ReleaseError(`rollback: ${what}. The last releases of ${stack}:\n${releaseLines(sorted.slice(0, 5)).join('\n')}\nNothing was changed.`)
  if (target.kind === 'number') {
    const found = sorted.find(r => r.number === target.number)
    if (!found) throw unknown(`stack ${stack} has no release ${target.number}`)
    return found
  }
  if (target.kind === 'sha') {
    const found = sorted.find(r => r.status === 'converged' && r.sha.toLowerCase().startsWith(target.sha))
    if (!found) throw unknown(`stack ${stack} has no converged release of commit ${target.sha}`)
    return found
  }
  const live = liveRelease(sorted)
  const found = sorted.find(r => r.status === 'converged' && live !== undefined && r.number < live.number)
  if (!found) throw unknown(`stack ${stack} has no converged release before the live one${live ? ` (#${live.number})` : ''}`)
  return found
}

export function shortSha(sha: string): string {
  return sha === '' ? '–' : sha.slice(0, 7)
}

export function describeRelease(r: Release): string {
  return r.rollbackTo === undefined ? '' : `rollback to #${r.rollbackTo}`
}

/** One line per release, for errors and the terminal. */
export function releaseLines(releases: Release[]): string[] {
  return releases.map(r => {
    const images = [...new Set(r.services.map(s => s.image))].join(', ')
    const note = describeRelease(r)
    return `  #${r.number} ${r.status} ${shortSha(r.sha)} ${r.actor || '–'} ${r.time}${note ? ` (${note})` : ''} ${images}`
  })
}

/** The release list as the CLI prints it; refused records are listed as such, never hidden. */
export function releaseTable(releases: Release[], refused: readonly RefusedRecord[] = []): string {
  const rows = [
    ...sortReleases(releases).map(r => ({
      number: r.number,
      row: [
        `#${r.number}`,
        r.status,
        shortSha(r.sha),
        r.actor || '–',
        r.time,
        [describeRelease(r), [...new Set(r.services.map(s => s.image))].join(', ')].filter(Boolean).join(' · ')
      ]
    })),
    ...refused.map(r => ({
      number: r.number ?? 0,
      row: [r.number === undefined ? '?' : `#${r.number}`, 'REFUSED', '–', '–', '–', `not trusted, never deployed: ${refusedLine(r)}`]
    }))
  ]
    .sort((a, b) => b.number - a.number)
    .map(r => r.row)
  const header = ['RELEASE', 'STATUS', 'SHA', 'ACTOR', 'TIME', 'IMAGES']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i]!.length)))
  return [header, ...rows].map(row => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n'
}

/** What `--json` gives for a refused record. */
export function refusedSummary(r: RefusedRecord): object {
  return { number: r.number ?? null, status: 'refused', config: r.name, id: r.id, reason: r.reason }
}

/** What `--json` and the outputs give for a release: no compose text. */
export function releaseSummary(r: Release): object {
  return {
    number: r.number,
    status: r.status,
    sha: r.sha,
    ref: r.ref,
    actor: r.actor,
    runUrl: r.runUrl,
    time: r.time,
    rollbackTo: r.rollbackTo ?? null,
    services: r.services.map(s => ({ name: s.name, image: s.image })),
    variables: r.variables
  }
}

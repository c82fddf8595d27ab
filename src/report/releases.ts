// The "Releases" table of the job summary: the last five releases of the
// stack. Pure; a release record holds no env value.
import type { StackStatus, Verdict } from '../converge/verdict.js'
import type { Release } from '../release/record.js'
import { describeRelease, shortSha } from '../release/select.js'

export interface ReleaseRow {
  number: number
  status: string
  sha: string
  actor: string
  time: string
  note: string
  images: string[]
}

export function releaseRow(r: Release): ReleaseRow {
  return {
    number: r.number,
    status: r.status,
    sha: shortSha(r.sha),
    actor: r.actor,
    time: r.time,
    note: describeRelease(r),
    images: [...new Set(r.services.map(s => s.image))]
  }
}

/** `cell` and `code` are the summary's own escapes, so swarm text cannot break the table. */
export function renderReleases(rows: ReleaseRow[], cell: (text: string) => string, code: (text: string) => string): string[] {
  if (rows.length === 0) return []
  return [
    '',
    '### Releases',
    '',
    '| Release | Status | Commit | Actor | Time | Images |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      r =>
        `| #${r.number}${r.note ? ` (${cell(r.note)})` : ''} | ${cell(r.status)} | ${r.sha === '–' ? '–' : code(r.sha)} | ${cell(r.actor || '–')} | ${cell(r.time)} | ${r.images.map(code).join('<br/>') || '–'} |`
    )
  ]
}

/** With on-failure: rollback-stack, the verdict of the deploy that was undone. */
export function renderFirstVerdict(first: Verdict | undefined, badge: Record<StackStatus, string>, cell: (text: string) => string): string[] {
  if (!first) return []
  return [
    '',
    `### The deploy that was undone: ${badge[first.status]}`,
    '',
    cell(first.summary),
    '',
    ...first.services.map(s => `- ${cell(`${s.name}: ${s.state}: ${s.message}`)}`)
  ]
}

// The cleanup's report (src/prune-images/prune.ts) for the log, the job
// summary, the terminal and the `pruned` output. Image names come from the
// nodes: data, shown through the summary's cell and code helpers.
import type { NodePrune, PruneReport, PrunedImage } from '../prune-images/prune.js'
import type { KeepReason } from '../prune-images/decide.js'
import { unreachable } from '../exhaustive.js'
import { cell, code } from './summary.js'

/** Decimal units, as `docker image ls` prints sizes. */
export function byteSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit += 1
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`
}

/** Its first name, a digest cut to 12 characters as `docker image ls` shows IDs (the `pruned` output has them whole). */
const nameOf = (image: PrunedImage): string =>
  (image.names[0] ?? image.id.replace(/^sha256:/, '')).replace(/(@sha256:[0-9a-f]{12})[0-9a-f]{52}$/, '$1').slice(0, 200)

export function keepReason(why: KeepReason): string {
  switch (why) {
    case 'task':
      return 'a task on the node uses it'
    case 'spec':
      return "a service's current or previous spec"
    case 'release':
      return 'a kept release'
    default:
      return unreachable(why)
  }
}

function nodeLine(node: NodePrune): string {
  const kept = node.kept.length > 0 ? `; kept ${node.kept.map(k => `${nameOf(k)} (${keepReason(k.why)})`).join(', ')}` : ''
  const list = (images: PrunedImage[]): string => images.map(nameOf).join(', ')
  switch (node.state) {
    case 'skipped':
      return `${node.hostname}: skipped (${node.why ?? 'not ready'}); its images stay`
    case 'failed':
      return `${node.hostname}: not cleaned: ${node.why ?? 'unknown'}`
    case 'previewed':
      return `${node.hostname}: would remove ${node.removed.length === 0 ? 'nothing' : `${list(node.removed)} (${byteSize(node.bytesFreed)})`}${kept}`
    case 'cleaned': {
      const refused = node.refused.length > 0 ? `; left ${node.refused.map(r => `${nameOf(r)} (${r.why})`).join(', ')}` : ''
      return `${node.hostname}: removed ${node.removed.length === 0 ? 'nothing' : `${list(node.removed)} (${byteSize(node.bytesFreed)} freed)`}${refused}${kept}`
    }
    default:
      return unreachable(node.state)
  }
}

/** One line per node, and the status; for the log and the terminal. */
export function pruneLines(report: PruneReport): string[] {
  const freed = report.nodes.reduce((sum, n) => sum + n.bytesFreed, 0)
  const head =
    report.status === 'previewed'
      ? `Image cleanup preview: ${byteSize(freed)} would be freed`
      : report.status === 'failed' && report.message
        ? `Image cleanup failed: ${report.message}`
        : `Image cleanup ${report.status}: ${byteSize(freed)} freed`
  return [head, ...report.nodes.map(nodeLine)]
}

/** The job summary's section. */
export function renderPruneSummary(report: PruneReport): string {
  const lines = ['', `### Image cleanup: ${cell(report.status)}`, '']
  if (report.message) lines.push(cell(report.message), '')
  if (report.nodes.length > 0) {
    lines.push(`| Node | State | ${report.status === 'previewed' ? 'Would remove' : 'Removed'} | Freed | Kept (why) |`, '| --- | --- | --- | --- | --- |')
    for (const node of report.nodes) {
      const removed = node.removed.map(i => code(nameOf(i))).join(', ') || '–'
      const kept = node.kept.map(k => `${code(nameOf(k))} (${keepReason(k.why)})`).join(', ') || '–'
      const state = node.why ? `${node.state}: ${node.why}` : node.state
      lines.push(`| ${cell(node.hostname)} | ${cell(state)} | ${removed} | ${byteSize(node.bytesFreed)} | ${kept} |`)
    }
  }
  return lines.join('\n') + '\n'
}

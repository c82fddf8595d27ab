// The summary for a terminal: the same facts as the job summary, as plain
// text (a services table and the tasks by node), no Markdown, no Mermaid.
import { describeFailure } from '../converge/diagnose.js'
import type { ReportFacts } from './summary.js'
import { expiryNote } from './summary.js'
import { smokeText } from './smoke.js'
import { stagesText } from './stages.js'

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)))
  return rows.map(r => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
}

export function renderText(facts: ReportFacts): string {
  const { verdict } = facts
  const lines = [
    `Stack ${facts.stack}: ${verdict.status}`,
    verdict.summary,
    `Target ${facts.target}, took ${facts.seconds}s${facts.image ? `, image ${facts.image}` : ''}`
  ]
  if (verdict.services.length > 0) {
    lines.push(
      '',
      ...table([
        ['SERVICE', 'REPLICAS', 'NODES', 'STATE'],
        ...verdict.services.map(s => [
          s.name,
          `${s.running}/${s.desired}${s.mode === 'replicated' ? '' : ` (${s.mode})`}`,
          s.nodes.join(',') || '-',
          `${s.state}${s.updateState ? ` (${s.updateState})` : ''}: ${s.message}`
        ])
      ])
    )
  }
  const tasks = verdict.services.flatMap(s => s.tasks)
  if (tasks.length > 0) {
    lines.push('', 'Tasks by node:')
    const nodes = [...new Set(tasks.map(t => t.node))].sort()
    for (const node of nodes) {
      const here = tasks.filter(t => t.node === node).map(t => `${t.service}${t.slot ? `.${t.slot}` : ''} ${t.state}${t.current ? '' : ' (other spec)'}`)
      lines.push(`  ${node}: ${here.join(', ')}`)
    }
  }
  lines.push(...stagesText(facts.stages ?? []))
  lines.push(...smokeText(facts.smoke ?? []))
  if (facts.diagnoses.length > 0) {
    lines.push('', 'Failed tasks:')
    for (const { failure, logTail, advice } of facts.diagnoses) {
      lines.push(`  ${describeFailure(failure)}`)
      if (advice) lines.push(`    → ${advice}`)
      if (logTail !== '') lines.push(...logTail.split('\n').map(l => `    | ${l}`))
    }
  }
  if (facts.registryAuthExpires) lines.push('', expiryNote(facts.registryAuthExpires))
  return lines.join('\n') + '\n'
}

// The job summary and the `services` output, rendered from the verdict.
// Pure: the verdict holds no secret (env values live only in the deploy
// child's environment, and service specs' env is never read into it).
import type { Diagnosis } from '../converge/diagnose.js'
import { describeFailure } from '../converge/diagnose.js'
import type { StackStatus, Verdict } from '../converge/judge.js'

export interface ReportFacts {
  stack: string
  target: string
  image: string | undefined
  verdict: Verdict
  diagnoses: Diagnosis[]
  seconds: number
}

const BADGE: Record<StackStatus, string> = {
  converged: '✅ converged',
  failed: '❌ failed',
  'rolled-back': '↩️ rolled back',
  superseded: '🔀 superseded',
  'timed-out': '⏱️ timed out',
  pending: '… pending'
}

export function servicesOutput(verdict: Verdict): string {
  return JSON.stringify(
    verdict.services.map(s => ({
      name: s.name,
      image: s.image,
      mode: s.mode,
      running: s.running,
      desired: s.desired,
      updateState: s.updateState ?? null,
      state: s.state,
      message: s.message,
      change: s.change,
      nodes: s.nodes
    }))
  )
}

const STATE_CLASS: Record<string, string> = { running: 'running', complete: 'complete', failed: 'failed', rejected: 'failed' }

/**
 * A picture of the swarm in the spirit of the Swarm visualizer: one box per
 * node, one task per entry, coloured by state; tasks of another spec (old, or a failed new one after a rollback) grey.
 */
export function renderDiagram(verdict: Verdict): string | undefined {
  const tasks = verdict.services.flatMap(s => s.tasks)
  if (tasks.length === 0) return undefined
  const byNode = new Map<string, typeof tasks>()
  for (const task of tasks) byNode.set(task.node, [...(byNode.get(task.node) ?? []), task])
  const label = (text: string): string => text.replace(/["<>]/g, '')
  const lines = ['```mermaid', 'flowchart LR']
  const classes: string[] = []
  let n = 0
  for (const [node, onNode] of [...byNode.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  subgraph node${n}["${label(node)}"]`, '    direction TB')
    onNode.forEach((task, i) => {
      const id = `n${n}t${i}`
      const slot = task.slot ? `.${task.slot}` : ''
      lines.push(`    ${id}["${label(task.service)}${slot}<br/>${task.state}${task.current ? '' : ' (other spec)'}"]`)
      classes.push(`  class ${id} ${task.current ? (STATE_CLASS[task.state] ?? 'pending') : 'other'}`)
    })
    lines.push('  end')
    n += 1
  }
  lines.push(
    ...classes,
    '  classDef running fill:#2da44e,color:#fff,stroke:#1a7f37',
    '  classDef complete fill:#0969da,color:#fff,stroke:#0550ae',
    '  classDef failed fill:#cf222e,color:#fff,stroke:#a40e26',
    '  classDef pending fill:#d4a72c,color:#000,stroke:#9a6700',
    '  classDef other fill:#d0d7de,color:#57606a,stroke:#8c959f',
    '```'
  )
  return lines.join('\n')
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

export function renderSummary(facts: ReportFacts): string {
  const { verdict } = facts
  const lines = [
    `## swarm-deploy: stack \`${facts.stack}\` ${BADGE[verdict.status]}`,
    '',
    verdict.summary,
    '',
    `Target: \`${facts.target}\` · took ${facts.seconds}s${facts.image ? ` · image \`${facts.image}\`` : ''}`,
    '',
    '| Service | Image | Replicas | Nodes | State |',
    '| --- | --- | --- | --- | --- |',
    ...verdict.services.map(
      s =>
        `| ${cell(s.name)} | \`${cell(s.image)}\` | ${s.running}/${s.desired}${s.mode === 'replicated' ? '' : ` (${s.mode})`} | ${cell(s.nodes.join(', ') || '–')} | ${cell(`${s.state}${s.updateState ? ` (${s.updateState})` : ''}: ${s.message}`)} |`
    )
  ]
  const diagram = renderDiagram(verdict)
  if (diagram) lines.push('', '### Tasks by node', '', diagram)
  if (facts.diagnoses.length > 0) {
    lines.push('', '### Failed tasks', '')
    for (const { failure, logTail } of facts.diagnoses) {
      lines.push(`- ${cell(describeFailure(failure))}`)
      if (logTail !== '') lines.push('', '  ```text', ...logTail.split('\n').map(l => `  ${l}`), '  ```')
    }
  }
  return lines.join('\n') + '\n'
}

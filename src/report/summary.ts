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
      change: s.change,
      nodes: s.nodes
    }))
  )
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
  if (facts.diagnoses.length > 0) {
    lines.push('', '### Failed tasks', '')
    for (const { failure, logTail } of facts.diagnoses) {
      lines.push(`- ${cell(describeFailure(failure))}`)
      if (logTail !== '') lines.push('', '  ```text', ...logTail.split('\n').map(l => `  ${l}`), '  ```')
    }
  }
  return lines.join('\n') + '\n'
}

// The job summary and the `services` output, rendered from the verdict.
// Pure: the verdict holds no secret (env values live only in the deploy
// child's environment, and service specs' env is never read into it).
import type { Diagnosis } from '../converge/diagnose.js'
import { describeFailure } from '../converge/diagnose.js'
import type { StackStatus, Verdict } from '../converge/verdict.js'
import type { ReleaseRow } from './releases.js'
import { renderFirstVerdict, renderReleases } from './releases.js'
import { STORED_EXPIRY } from '../registry/expiry.js'
import type { SmokeCheckReport } from './smoke.js'
import { renderSmoke } from './smoke.js'
import type { StageReport } from '../deploy/stage-verdict.js'
import { renderStages } from './stages.js'
import { plainText } from './plain-text.js'

export interface ReportFacts {
  stack: string
  target: string
  image: string | undefined
  verdict: Verdict
  diagnoses: Diagnosis[]
  seconds: number
  /** The stack's last five releases, newest first. */
  releases?: ReleaseRow[]
  /** With on-failure: rollback-stack, the verdict of the deploy that was undone (`verdict` is the rollback's). */
  firstVerdict?: Verdict
  /** ISO time the ECR token stored in the services expires (ECR logins only). */
  registryAuthExpires?: string
  /** With smoke-url: each smoke check of the run, in order. */
  smoke?: SmokeCheckReport[]
  /** With hooks or waves: each step, in order. */
  stages?: StageReport[]
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

/**
 * Text from the swarm (node and service names, task states) as a Mermaid
 * label: letters, digits and a few marks as they are, every other character
 * as Mermaid's entity code (`#34;` for `"`), so nothing in it can end the
 * label, start a statement (`click`), a comment (`%%`) or HTML, or close the
 * fence.
 */
export function label(text: string): string {
  return [...plainText(text).replace(/\s+/g, ' ')].map(c => (/[\p{L}\p{N} ._\-/:@+,()]/u.test(c) ? c : `#${c.codePointAt(0)!};`)).join('')
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
  const lines = ['```mermaid', 'flowchart LR']
  const classes: string[] = []
  let n = 0
  for (const [node, onNode] of [...byNode.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  subgraph node${n}["${label(node)}"]`, '    direction TB')
    onNode.forEach((task, i) => {
      const id = `n${n}t${i}`
      const slot = task.slot ? `.${task.slot}` : ''
      lines.push(`    ${id}["${label(task.service)}${slot}<br/>${label(task.state)}${task.current ? '' : ' (other spec)'}"]`)
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

/** A word GitHub's Markdown would make a link of (an extended autolink: a URL, `www.`, an e-mail address). */
const LINKISH = /:\/\/|www\.|@[^@]*\./i

/**
 * Text from the swarm (task errors, update messages, node names) as inline
 * Markdown: on one line, with every character that could start emphasis, a
 * link, HTML, an entity, math or strike-through, or end a table cell,
 * backslash-escaped; a word that would become a link is a code span, where
 * GFM finds no autolink (a backslash does not stop every autolink).
 */
export function cell(text: string): string {
  return plainText(text)
    .replace(/\n/g, ' ')
    .split(/(\s+)/)
    .map(word => (LINKISH.test(word) ? code(word) : word.replace(/[\\`*_[\]<>|~&$]/g, '\\$&')))
    .join('')
}

/** A code span that no backtick in the text can end (and no `|` split, in a table). */
export function code(text: string): string {
  const flat = plainText(text).replace(/\n/g, ' ').replace(/\|/g, '\\|')
  const ticks = '`'.repeat(longestRun(flat, '`') + 1)
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : ''
  return `${ticks}${pad}${flat}${pad}${ticks}`
}

/** A fence longer than any backtick run in the text, so the text cannot close it. */
function fence(text: string): string {
  return '`'.repeat(Math.max(3, longestRun(text, '`') + 1))
}

function longestRun(text: string, char: string): number {
  let longest = 0
  let run = 0
  for (const c of text) {
    run = c === char ? run + 1 : 0
    longest = Math.max(longest, run)
  }
  return longest
}

export function renderSummary(facts: ReportFacts): string {
  const { verdict } = facts
  const lines = [
    `## swarm-deploy: stack ${code(facts.stack)} ${BADGE[verdict.status]}`,
    '',
    cell(verdict.summary),
    '',
    `Target: ${code(facts.target)} · took ${facts.seconds}s${facts.image ? ` · image ${code(facts.image)}` : ''}`,
    '',
    '| Service | Image | Replicas | Nodes | State |',
    '| --- | --- | --- | --- | --- |',
    ...verdict.services.map(
      s =>
        `| ${cell(s.name)} | ${code(s.image)} | ${s.running}/${s.desired}${s.mode === 'replicated' ? '' : ` (${s.mode})`} | ${cell(s.nodes.join(', ') || '–')} | ${cell(`${s.state}${s.updateState ? ` (${s.updateState})` : ''}: ${s.message}`)} |`
    )
  ]
  lines.push(...renderStages(facts.stages ?? [], cell))
  lines.push(...renderSmoke(facts.smoke ?? [], cell, code))
  lines.push(...renderFirstVerdict(facts.firstVerdict, BADGE, cell))
  const diagram = renderDiagram(verdict)
  if (diagram) lines.push('', '### Tasks by node', '', diagram)
  if (facts.diagnoses.length > 0) {
    lines.push('', '### Failed tasks', '')
    for (const { failure, logTail, advice } of facts.diagnoses) {
      lines.push(`- ${cell(describeFailure(failure))}`)
      if (advice) lines.push(`  ${cell(advice)}`)
      // Markdown ends a line at \r too: an unindented line would end the list item, and the fence with it.
      const tail = plainText(logTail)
      const ticks = fence(tail)
      if (tail !== '') lines.push('', `  ${ticks}text`, ...tail.split('\n').map(l => `  ${l}`), `  ${ticks}`)
    }
  }
  lines.push(...renderReleases(facts.releases ?? [], cell, code))
  if (facts.registryAuthExpires) lines.push('', `> [!NOTE]`, `> ${cell(expiryNote(facts.registryAuthExpires))}`)
  return lines.join('\n') + '\n'
}

/** For the summaries: the stored credential's end, and what keeps the services able to pull after it. */
export function expiryNote(expiresAt: string): string {
  return STORED_EXPIRY.summary(expiresAt)
}

// The preview's plan for people: a "Plan" section for the job summary and
// a diff for a terminal. Pure; the plan holds no value (stack-plan.ts) and
// the front ends redact what they print.
import type { PlanAction, StackPlan } from '../preview/stack-plan.js'
import { planCounts } from '../preview/stack-plan.js'
import { cell, code } from './summary.js'
import { planStepsText, renderPlanSteps } from './stages.js'

const BADGE: Record<PlanAction, string> = { create: '➕ create', update: '✏️ update', unchanged: '✔️ unchanged', remove: '➖ remove' }
const SIGN: Record<PlanAction, string> = { create: '+', update: '~', unchanged: '=', remove: '-' }

export function renderPlanSummary(plan: StackPlan): string {
  const lines = [
    `## swarm-deploy: stack ${code(plan.stack)} 🔍 dry run`,
    '',
    'Nothing was built, pushed or changed on the swarm.',
    '',
    '### Plan',
    '',
    cell(planCounts(plan)),
    '',
    '| Service | Action | Image | What changes |',
    '| --- | --- | --- | --- |',
    ...plan.services.map(s => `| ${cell(s.name)} | ${BADGE[s.action]} | ${code(s.image)} | ${s.changes.map(cell).join('<br>') || '–'} |`)
  ]
  lines.push(...renderPlanSteps(plan.steps ?? [], cell))
  if (plan.kept.length > 0) lines.push('', `Not in the compose files, kept because prune is off: ${plan.kept.map(code).join(', ')}`)
  if (plan.warnings.length > 0) lines.push('', '### Warnings', '', ...plan.warnings.map(w => `- ${cell(w)}`))
  return lines.join('\n') + '\n'
}

export function renderPlanText(plan: StackPlan): string {
  const lines = [`Plan for stack ${plan.stack} (dry run: nothing was built, pushed or changed): ${planCounts(plan)}`, '']
  for (const s of plan.services) {
    lines.push(`${SIGN[s.action]} ${s.name}: ${s.action}${s.action === 'unchanged' ? '' : ` (${s.image})`}`)
    for (const change of s.changes) lines.push(`    ${change}`)
  }
  lines.push(...planStepsText(plan.steps ?? []))
  if (plan.kept.length > 0) lines.push('', `Kept (not in the compose files, prune is off): ${plan.kept.join(', ')}`)
  if (plan.warnings.length > 0) lines.push('', 'Warnings:', ...plan.warnings.map(w => `  ${w}`))
  return lines.join('\n') + '\n'
}

// The hooks and waves of a deploy for people: the summary's "Hooks and
// waves" table and the terminal's lines (each step with its time and
// verdict), and the dry run's steps in the order a deploy would run them,
// with what each would change. Pure; `cell` is the summary's own escape.
import type { Stage } from '../deploy/stage-plan.js'
import { stageName } from '../deploy/stage-plan.js'
import type { StageReport } from '../deploy/stage-verdict.js'
import type { PlanAction, PlannedStep, StackPlan } from '../preview/stack-plan.js'

const BADGE: Record<StageReport['status'], string> = {
  converged: '✅ converged',
  failed: '❌ failed',
  'rolled-back': '↩️ rolled back',
  superseded: '🔀 superseded',
  'timed-out': '⏱️ timed out',
  pending: '… pending',
  skipped: '⏭️ skipped',
  'not run': '– not run'
}

const timeOf = (report: StageReport): string => (report.seconds === undefined ? '–' : `${report.seconds}s`)

export function renderStages(reports: StageReport[], cell: (text: string) => string): string[] {
  if (reports.length === 0) return []
  return [
    '',
    '### Hooks and waves',
    '',
    '| Step | Time | Verdict |',
    '| --- | --- | --- |',
    ...reports.map(r => `| ${cell(`${r.round ? `${r.round}: ` : ''}${r.name}`)} | ${timeOf(r)} | ${BADGE[r.status]} |`)
  ]
}

export function stagesText(reports: StageReport[]): string[] {
  if (reports.length === 0) return []
  return [
    '',
    'Hooks and waves:',
    ...reports.map(r => `  ${r.round ? `${r.round}: ` : ''}${r.name}: ${r.status}${r.seconds === undefined ? '' : ` (${r.seconds}s)`}`)
  ]
}

/** The dry run's steps: each with its services and what a deploy would do to each (hooks always run: a job runs on every deploy of it). */
export function plannedSteps(stages: Stage[], plan: StackPlan): PlannedStep[] {
  const actions = new Map(plan.services.map(s => [s.name, s.action]))
  return stages.map(stage => ({
    name: stageName(stage),
    services: stage.services.map(name => ({ name, action: stage.kind === 'wave' ? (actions.get(name) ?? 'unchanged') : ('run' as const) }))
  }))
}

const said = (action: PlanAction | 'run'): string => (action === 'run' ? 'runs' : action)

export function renderPlanSteps(steps: PlannedStep[], cell: (text: string) => string): string[] {
  if (steps.length === 0) return []
  return [
    '',
    '### Hooks and waves, in order',
    '',
    ...steps.map(
      (step, i) =>
        `${i + 1}. ${cell(step.name)}: ${cell(step.services.map(s => `${s.name} ${said(s.action)}`).join(', ') || 'the stack’s networks, secrets and configs')}`
    )
  ]
}

export function planStepsText(steps: PlannedStep[]): string[] {
  if (steps.length === 0) return []
  return [
    '',
    'Steps, in order:',
    ...steps.map((step, i) => `  ${i + 1}. ${step.name}: ${step.services.map(s => `${s.name} ${said(s.action)}`).join(', ') || '(no service)'}`)
  ]
}

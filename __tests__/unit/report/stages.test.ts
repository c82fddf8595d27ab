import { describe, expect, it } from '@jest/globals'
import type { StackPlan } from '../../../src/preview/stack-plan.js'
import { plannedSteps, planStepsText, renderPlanSteps, renderStages, stagesText } from '../../../src/report/stages.js'
import { cell } from '../../../src/report/summary.js'

describe('renderStages', () => {
  const reports = [
    { kind: 'pre-deploy' as const, name: 'pre-deploy hook migrate', status: 'converged' as const, seconds: 4 },
    { kind: 'wave' as const, name: 'wave 1 (api)', status: 'failed' as const, seconds: 12 },
    { kind: 'wave' as const, name: 'wave 2 (web)', status: 'not run' as const },
    { kind: 'pre-deploy' as const, name: 'pre-deploy hook migrate', status: 'skipped' as const, round: 'rollback to #2' }
  ]

  it('is a table of the steps in order, with time and verdict', () => {
    expect(renderStages(reports, cell)).toEqual([
      '',
      '### Hooks and waves',
      '',
      '| Step | Time | Verdict |',
      '| --- | --- | --- |',
      '| pre-deploy hook migrate | 4s | ✅ converged |',
      '| wave 1 (api) | 12s | ❌ failed |',
      '| wave 2 (web) | – | – not run |',
      '| rollback to #2: pre-deploy hook migrate | – | ⏭️ skipped |'
    ])
    expect(stagesText(reports)).toEqual([
      '',
      'Hooks and waves:',
      '  pre-deploy hook migrate: converged (4s)',
      '  wave 1 (api): failed (12s)',
      '  wave 2 (web): not run',
      '  rollback to #2: pre-deploy hook migrate: skipped'
    ])
  })

  it('is nothing for a deploy without hooks or waves', () => {
    expect(renderStages([], cell)).toEqual([])
    expect(stagesText([])).toEqual([])
  })
})

describe('plannedSteps', () => {
  const plan: StackPlan = {
    stack: 'shop',
    services: [
      { name: 'migrate', action: 'unchanged', image: 'x', changes: [] },
      { name: 'web', action: 'update', image: 'x', changes: ['image a → b'] }
    ],
    kept: [],
    warnings: []
  }

  it('lists each step with what a deploy would do to its services; a hook runs', () => {
    const steps = plannedSteps(
      [
        { kind: 'pre-deploy', services: ['migrate'] },
        { kind: 'wave', wave: 0, services: ['web'], last: true }
      ],
      plan
    )
    expect(steps).toEqual([
      { name: 'pre-deploy hook migrate', services: [{ name: 'migrate', action: 'run' }] },
      { name: 'wave 0 (web)', services: [{ name: 'web', action: 'update' }] }
    ])
    expect(planStepsText(steps)).toEqual(['', 'Steps, in order:', '  1. pre-deploy hook migrate: migrate runs', '  2. wave 0 (web): web update'])
    expect(renderPlanSteps(steps, cell)).toEqual([
      '',
      '### Hooks and waves, in order',
      '',
      '1. pre-deploy hook migrate: migrate runs',
      '2. wave 0 (web): web update'
    ])
  })
})

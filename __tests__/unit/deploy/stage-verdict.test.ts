import { describe, expect, it } from '@jest/globals'
import type { Diagnosis } from '../../../src/converge/diagnose.js'
import type { ServiceVerdict, Verdict } from '../../../src/converge/verdict.js'
import { failureLine, notRunReports, stoppedVerdict, withPostDeploy } from '../../../src/deploy/stage-verdict.js'

const failure = (exitCode: number | undefined): Diagnosis['failure'] => ({
  taskId: 'task1',
  service: 'shop_migrate',
  slot: 1,
  node: 'swl-wrk',
  state: 'failed',
  error: 'task: non-zero exit (3)',
  exitCode,
  containerId: undefined
})
const service = (name: string, state: ServiceVerdict['state']): ServiceVerdict =>
  ({
    name,
    id: name,
    image: 'x',
    mode: 'replicated',
    change: 'updated',
    state,
    desired: 1,
    running: 1,
    message: state,
    nodes: [],
    pending: [],
    failures: [],
    rollbackWanted: false,
    tasks: [],
    updateState: undefined
  }) as ServiceVerdict
const failed: Verdict = {
  status: 'failed',
  services: [service('shop_migrate', 'failed')],
  summary: 'Stack shop failed: shop_migrate (the job failed on swl-wrk: task: non-zero exit (3)).'
}

describe('failureLine', () => {
  it('gives the exit code, the node and the last five non-empty log lines', () => {
    const logTail = ['1', '2', '', '3', '4', '5', '6', ''].join('\n')
    expect(failureLine([{ failure: failure(3), logTail }])).toBe(' (exit code 3 on swl-wrk; last log lines: 2 | 3 | 4 | 5 | 6)')
    expect(failureLine([{ failure: failure(undefined), logTail: '' }])).toBe(' (task: non-zero exit (3) on swl-wrk; no log output)')
    expect(failureLine([])).toBe('')
  })
})

describe('stoppedVerdict', () => {
  const diagnoses = [{ failure: failure(3), logTail: 'migrating\nno such table\n' }]

  it('names a failed pre-deploy hook, its exit code and log, what stays, and the steps not run', () => {
    const verdict = stoppedVerdict('shop', { kind: 'pre-deploy', services: ['migrate'] }, failed, diagnoses, [
      { kind: 'wave', wave: 0, services: ['web'], last: true },
      { kind: 'post-deploy', services: ['notify'] }
    ])
    expect(verdict.status).toBe('failed')
    expect(verdict.services).toBe(failed.services)
    expect(verdict.summary).toBe(
      "Stack shop failed: pre-deploy hook migrate did not complete (exit code 3 on swl-wrk; last log lines: migrating | no such table). Nothing else of the stack was changed; the hook's service is kept for inspection until the next deploy. Not run: wave 0 (web); post-deploy hook notify."
    )
  })

  it("names the wave that stopped, with the judge's own words, and the waves not run", () => {
    const wave: Verdict = { ...failed, status: 'rolled-back', summary: 'Stack shop.v2 was rolled back by Swarm: shop.v2_api failed to update.' }
    const verdict = stoppedVerdict(
      'shop.v2',
      { kind: 'wave', wave: 1, services: ['api'] },
      wave,
      [],
      [{ kind: 'wave', wave: 2, services: ['web'], last: true }]
    )
    expect(verdict.summary).toBe('Stack shop.v2 rolled-back at wave 1 (api): was rolled back by Swarm: shop.v2_api failed to update. Not run: wave 2 (web).')
  })
})

describe('withPostDeploy', () => {
  const stack: Verdict = {
    status: 'converged',
    services: [service('shop_web', 'converged')],
    summary: 'Stack shop converged: 1 service(s) running the deployed spec.'
  }

  it("keeps the stack's verdict when the hook converged, with the hook's service", () => {
    const hook: Verdict = { status: 'converged', services: [service('shop_notify', 'converged')], summary: '' }
    expect(withPostDeploy('shop', { kind: 'post-deploy', services: ['notify'] }, stack, hook, [])).toEqual({
      ...stack,
      services: [hook.services[0], stack.services[0]]
    })
  })

  it('fails with the hook, after the services converged', () => {
    const hook: Verdict = { ...failed, services: [service('shop_notify', 'failed')] }
    const verdict = withPostDeploy('shop', { kind: 'post-deploy', services: ['notify'] }, stack, hook, [{ failure: failure(1), logTail: 'boom' }])
    expect(verdict.status).toBe('failed')
    expect(verdict.summary).toBe(
      "Stack shop failed: post-deploy hook notify did not complete (exit code 1 on swl-wrk; last log lines: boom), after the stack's services converged."
    )
    expect(verdict.services.map(s => s.name)).toEqual(['shop_notify', 'shop_web'])
  })
})

describe('notRunReports', () => {
  it('rows without a time, in the round if any', () => {
    expect(notRunReports([{ kind: 'pre-deploy', services: ['a', 'b'] }], 'skipped', 'rollback to #3')).toEqual([
      { kind: 'pre-deploy', name: 'pre-deploy hooks a, b', status: 'skipped', round: 'rollback to #3' }
    ])
  })
})

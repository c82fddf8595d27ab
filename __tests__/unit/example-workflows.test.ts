// The example workflows use only inputs and outputs the action has.
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as YAML from 'yaml'
import { INPUTS, OUTPUTS } from '../../src/inputs/table.js'

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/workflows')

describe('examples/workflows', () => {
  const files = readdirSync(DIR).filter(f => f.endsWith('.yml'))
  it.each(files)('%s gives only known inputs and reads only known outputs', file => {
    const text = readFileSync(path.join(DIR, file), 'utf8')
    const workflow = YAML.parse(text) as { jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }> }
    const steps = Object.values(workflow.jobs)
      .flatMap(j => j.steps)
      .filter(s => s.uses?.includes('swarm-deploy'))
    expect(steps.length).toBeGreaterThan(0)
    for (const step of steps) for (const name of Object.keys(step.with ?? {})) expect(INPUTS.map(i => i.name)).toContain(name)
    for (const [, name] of text.matchAll(/steps\.\w+\.outputs\.([\w-]+)/g)) expect(OUTPUTS.map(o => o.name)).toContain(name)
  })
  it('has the deploy with an environment and a concurrency group, and the workflow_dispatch rollback defaulting to previous', () => {
    const deploy = YAML.parse(readFileSync(path.join(DIR, 'deploy.yml'), 'utf8')) as {
      jobs: { deploy: { concurrency: { group: string }; steps: Array<{ with?: Record<string, string> }> } }
    }
    expect(deploy.jobs.deploy.concurrency.group).toBe('deploy-production')
    expect(deploy.jobs.deploy.steps.some(s => s.with?.environment === 'production')).toBe(true)
    const rollback = YAML.parse(readFileSync(path.join(DIR, 'rollback.yml'), 'utf8')) as {
      on: { workflow_dispatch: { inputs: { release: { default: string } } } }
      jobs: { rollback: { steps: Array<{ with?: Record<string, string> }> } }
    }
    expect(rollback.on.workflow_dispatch.inputs.release.default).toBe('previous')
    expect(rollback.jobs.rollback.steps.some(s => s.with?.rollback === '${{ inputs.release }}')).toBe(true)
  })
  it("has the registry credential refresh every 6 hours, without a checkout, in the deploy's concurrency group", () => {
    const refresh = YAML.parse(readFileSync(path.join(DIR, 'refresh-registry-auth.yml'), 'utf8')) as {
      on: { schedule: Array<{ cron: string }> }
      jobs: { refresh: { concurrency: { group: string }; steps: Array<{ uses?: string; with?: Record<string, unknown> }> } }
    }
    const [minute, hour, ...rest] = refresh.on.schedule[0]!.cron.split(' ')
    expect([/^\d+$/.test(minute!), hour, rest]).toEqual([true, '*/6', ['*', '*', '*']])
    expect(refresh.jobs.refresh.concurrency.group).toBe('deploy-production')
    const step = refresh.jobs.refresh.steps.find(s => s.uses?.includes('swarm-deploy'))!
    expect(step.with?.['refresh-registry-auth']).toBe(true)
    expect(step.with?.registry).toMatch(/\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/)
    // A refresh reads no compose file and builds nothing.
    for (const unused of ['compose-file', 'image', 'env']) expect(step.with).not.toHaveProperty(unused)
    expect(refresh.jobs.refresh.steps.some(s => s.uses?.startsWith('actions/checkout'))).toBe(false)
  })
})

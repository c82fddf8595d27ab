// dry-run in-process: the engine with fake adapters. What it must not do
// (log in, build, push, create a secret or config, deploy, record a release)
// is each an effect the fake world would record.
import { describe, expect, it } from '@jest/globals'
import { parseCommandLine } from '../../src/cli/args.js'
import { exitCode } from '../../src/cli/main.js'
import { runDeploy } from '../../src/engine.js'
import type { StackPlan } from '../../src/preview/stack-plan.js'
import { COMPOSE, DB_PASSWORD, fakeWorld, inputsFor, recordingReporter, REPO, STACK } from '../support/fake-world.js'

describe('runDeploy with dry-run', () => {
  it('connects, checks the engine and previews: no login, build, push, secret, deploy or release; the plan is an output', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    const reporter = recordingReporter()
    const outcome = await runDeploy(inputsFor({ dryRun: true }), fake.host, fake.adapters, reporter)
    expect(outcome.stopped).toBeUndefined()
    expect(reporter.phases()).toEqual(['Connect', 'Check the target engine', 'Preview'])
    expect(fake.effects).toEqual(['connect', 'info', 'stack config', 'tunnel closed'])
    expect(fake.loginStdin).toEqual([])
    const plan = JSON.parse(reporter.outputs().plan!) as StackPlan
    expect(plan).toEqual(outcome.plan)
    expect(plan.services).toEqual([{ name: 'web', action: 'create', image: `${REPO}:v1 (to be built)`, changes: [] }])
    expect(reporter.outputs().status).toBeUndefined()
    expect(exitCode(outcome)).toBe(0)
    expect(reporter.lines()).not.toContain(DB_PASSWORD)
    // Nothing of the run is left on the runner.
    expect([...fake.files.keys()]).toEqual(['docker-compose.yml'])
    expect(fake.leftovers.size).toBe(0)
    expect(plan.stack).toBe(STACK)
  })
})

describe('the dry-run input', () => {
  it('is --dry-run or SWARM_DEPLOY_DRY_RUN on the CLI, false by default', () => {
    const sources = (env: Record<string, string> = {}) => ({ env, readFile: () => undefined })
    expect(parseCommandLine(['--dry-run', '--stack', 'x'], sources()).read('dry-run')).toBe('true')
    expect(parseCommandLine(['--stack', 'x'], sources({ SWARM_DEPLOY_DRY_RUN: 'true' })).read('dry-run')).toBe('true')
    expect(parseCommandLine(['--stack', 'x'], sources()).read('dry-run')).toBe('false')
  })
})

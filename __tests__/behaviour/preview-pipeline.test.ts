// dry-run in-process: the engine with fake adapters. What it must not do
// (log in, build, push, create a secret or config, deploy, record a release)
// is each an effect the fake world would record.
import { describe, expect, it } from '@jest/globals'
import { parseCommandLine } from '../../src/cli/args.js'
import { exitCode } from '../../src/cli/main.js'
import { runDeploy } from '../../src/engine.js'
import { readSmokeCheck } from '../../src/inputs/smoke-inputs.js'
import type { StackPlan } from '../../src/preview/stack-plan.js'
import { COMPOSE, DB_PASSWORD, fakeWorld, inputsFor, recordingReporter, REPO, STACK } from '../support/fake-world.js'
import { deployOutputs } from '../../src/report/outputs.js'

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
    const plan = JSON.parse(Object.fromEntries(deployOutputs(outcome)).plan!) as StackPlan
    expect(plan).toEqual(outcome.plan)
    expect(plan.services).toEqual([{ name: 'web', action: 'create', image: `${REPO}:v1 (to be built)`, changes: [] }])
    expect(Object.fromEntries(deployOutputs(outcome)).status).toBeUndefined()
    expect(exitCode(outcome)).toBe(0)
    expect(reporter.lines()).not.toContain(DB_PASSWORD)
    // Nothing of the run is left on the runner.
    expect([...fake.files.keys()]).toEqual(['docker-compose.yml'])
    expect(fake.leftovers.size).toBe(0)
    expect(plan.stack).toBe(STACK)
  })
})

describe('dry-run with environment', () => {
  it('creates no GitHub deployment (the same inputs without dry-run do reach GitHub)', async () => {
    const asked = async (dryRun: boolean): Promise<number> => {
      const fake = fakeWorld({ env: { GITHUB_REPOSITORY: 'acme/shop' } })
      fake.files.set('docker-compose.yml', COMPOSE)
      let clients = 0
      fake.adapters.github = () => {
        clients++
        throw new Error('no GitHub here')
      }
      await runDeploy(
        inputsFor({ dryRun, deployment: { environment: 'production', url: undefined, token: 'gh-token-1234567' } }),
        fake.host,
        fake.adapters,
        recordingReporter()
      )
      return clients
    }
    expect(await asked(true)).toBe(0)
    expect(await asked(false)).toBe(1)
  })
})

describe('dry-run with smoke-url', () => {
  it('checks the smoke inputs, asks no URL, and says what a deploy would check', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    let asked = 0
    fake.adapters.smokeGet = async () => (asked++, { status: 500, body: '' })
    const reporter = recordingReporter()
    const smoke = readSmokeCheck(name => ({ 'smoke-url': 'https://shop.example.test/health?token=tok-smoke-7d3f9a2b', 'smoke-timeout': '30s' })[name] ?? '')
    const outcome = await runDeploy(inputsFor({ dryRun: true, smoke }), fake.host, fake.adapters, reporter)
    expect(outcome.stopped).toBeUndefined()
    expect(exitCode(outcome)).toBe(0)
    expect(asked).toBe(0)
    expect(reporter.phases()).not.toContain('Smoke check')
    expect(reporter.lines()).toContain(
      'Dry run: no smoke check (nothing was deployed); a deploy would GET https://shop.example.test/health?token=*** until it answers 200-399, for up to 30s'
    )
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

describe('docker stack config failing', () => {
  /** The fake world with `docker stack config` answering `failed` and `docker --version` answering `version`. */
  async function preview(failed: { code: number; stdout: string; stderr: string }, version: string | undefined) {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    const real = fake.adapters.dockerCli
    fake.adapters.dockerCli = (...args) => {
      const cli = real(...args)
      return {
        async run(argv, options) {
          if (argv[0] === 'stack' && argv[1] === 'config') return { ...failed, timedOut: false }
          if (argv[0] === '--version')
            return version === undefined ? { code: 1, stdout: '', stderr: 'no', timedOut: false } : { code: 0, stdout: version, stderr: '', timedOut: false }
          return cli.run(argv, options)
        }
      }
    }
    const reporter = recordingReporter()
    const outcome = await runDeploy(inputsFor({ dryRun: true }), fake.host, fake.adapters, reporter)
    return { outcome, reporter }
  }
  const USAGE = { code: 125, stdout: '', stderr: "unknown flag: --compose-file\nSee 'docker stack --help'.\n\nUsage:  docker stack [OPTIONS] COMMAND\n" }

  it('on a CLI older than 23.0 says dry-run needs a newer one, and which one this is, instead of the usage text', async () => {
    const { outcome } = await preview(USAGE, 'Docker version 20.10.24+dfsg1, build 297e128\n')
    expect(outcome.stopped).toEqual({
      kind: 'error',
      message: 'dry-run needs docker CLI ≥ 23.0 on the runner (for docker stack config); this one is 20.10.24+dfsg1'
    })
  })

  it('never quotes its output, which holds the interpolated values, even when stderr is empty', async () => {
    const { outcome, reporter } = await preview(
      { code: 1, stdout: `services:\n  web:\n    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n      PIN: "q7z"\n`, stderr: '' },
      'Docker version 28.2.2, build e6534b4\n'
    )
    expect(outcome.stopped!.message).toBe('docker stack config failed (docker exit code 1): (no error text; its output is not shown, as it holds the values)')
    const shown = JSON.stringify(outcome) + reporter.lines()
    // A value too short to redact (under 4 characters) too.
    for (const value of [DB_PASSWORD, 'q7z']) expect(shown).not.toContain(value)
  })

  it('quotes its error text when the CLI is new enough, or its version cannot be read', async () => {
    const failed = { code: 1, stdout: 'version: "3.13"\n', stderr: 'services.web.deploy.replicas must be a integer\n' }
    for (const version of ['Docker version 28.2.2, build e6534b4\n', undefined]) {
      const { outcome } = await preview(failed, version)
      expect(outcome.stopped!.message).toBe('docker stack config failed (docker exit code 1): services.web.deploy.replicas must be a integer')
    }
  })
})

// prune-images as a step of the deploy, with fake adapters: it runs after a
// converged deploy only, as its own phase, and its result never changes the
// deploy's verdict (the fake docker CLI knows no `service` command, so the
// cleanup here can only fail).
import { describe, expect, it, jest } from '@jest/globals'
import { runDeploy } from '../../src/engine.js'
import { exitCode } from '../../src/cli/main.js'
import { deployOutputs } from '../../src/report/outputs.js'
import type { WorldOptions } from '../support/fake-world.js'
import { COMPOSE, fakeWorld, inputsFor, recordingReporter } from '../support/fake-world.js'

// The whole engine in-process, twice: more than jest's 5 s default on a loaded machine (seen in the full unit run).
jest.setTimeout(30_000)

const PRUNE = { pruneImages: { image: 'docker:27-cli', socket: '/var/run/docker.sock' } }

async function deploy(world: WorldOptions = {}) {
  const fake = fakeWorld(world)
  fake.files.set('docker-compose.yml', COMPOSE)
  const reporter = recordingReporter()
  const outcome = await runDeploy(inputsFor(PRUNE), fake.host, fake.adapters, reporter)
  return { reporter, outcome }
}

describe('prune-images in the deploy', () => {
  it('runs after the versions are pruned; a cleanup that fails leaves the verdict converged and says why in `pruned`', async () => {
    const { reporter, outcome } = await deploy()
    expect(outcome.status).toBe('converged')
    expect(reporter.phases().slice(-2)).toEqual(['Remove unused secret and config versions', 'Remove unused images'])
    expect(outcome.pruned?.status).toBe('failed')
    expect(outcome.pruned?.message).toMatch(/unexpected service ls/)
    expect(exitCode(outcome)).toBe(0)
    const outputs = Object.fromEntries(deployOutputs(outcome))
    expect(outputs.status).toBe('converged')
    expect(JSON.parse(outputs.pruned!)).toMatchObject({ status: 'failed', nodes: [] })
  })

  it('does not run after a deploy that failed', async () => {
    const { reporter, outcome } = await deploy({ scenario: 'crash' })
    expect(outcome.status).not.toBe('converged')
    expect(reporter.phases()).not.toContain('Remove unused images')
    expect(outcome.pruned).toBeUndefined()
    expect(deployOutputs(outcome).map(([name]) => name)).not.toContain('pruned')
  })
})

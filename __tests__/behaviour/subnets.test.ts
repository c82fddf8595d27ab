// The whole deploy with fakes: the network it creates gets its subnet in the
// copy docker is given, never in the user's file nor in the release record
// (a rollback renders again, against the networks there are then); and a
// task refused its subnet is explained in the diagnostics and the summary.
import { describe, expect, it } from '@jest/globals'
import { runDeploy } from '../../src/engine.js'
import { COMPOSE, fakeWorld, inputsFor, recordingReporter, STACK } from '../support/fake-world.js'
import type { WorldOptions } from '../support/fake-world.js'

async function deploy(world: WorldOptions = {}, dryRun = false) {
  const fake = fakeWorld(world)
  fake.files.set('docker-compose.yml', COMPOSE)
  const reporter = recordingReporter()
  const outcome = await runDeploy(inputsFor({ dryRun }), fake.host, fake.adapters, reporter)
  return { ...fake, reporter, outcome }
}

describe('subnets of the networks a deploy creates', () => {
  it('gives the new default network a free subnet in the copy only, and says which', async () => {
    const { outcome, reporter, deployedCompose, files, configs } = await deploy()
    expect(outcome.status).toBe('converged')
    const subnet = new RegExp(`network ${STACK}_default → subnet (10\\.\\d+\\.\\d+\\.0/24), a free one of Docker's default pool`).exec(reporter.lines())?.[1]
    expect(subnet).toBeDefined()
    expect(deployedCompose[0]!.join('\n')).toContain(`networks: {default: {ipam: {config: [{subnet: "${subnet}"}]}}}`)
    expect(files.get('docker-compose.yml')).toBe(COMPOSE)
    const release = [...configs.values()].find(c => c.name.startsWith(`${STACK}_release_`))
    expect(release?.data.toString('utf8')).toContain('services:')
    expect(release?.data.toString('utf8')).not.toContain('ipam')
  })

  it('says in a dry run which subnet a deploy would give now', async () => {
    const { reporter, effects } = await deploy({}, true)
    expect(effects).not.toContain('stack deploy')
    expect(reporter.lines()).toMatch(
      new RegExp(`create {4}network ${STACK}_default \\(subnet 10\\.\\d+\\.\\d+\\.0/24, a free one of Docker's default pool 10\\.0\\.0\\.0/8 in /24s`)
    )
  })

  it('explains a task refused its subnet: no listed network holds it, so a node still tears a removed one down', async () => {
    const { outcome, reporter } = await deploy({ scenario: 'crash', taskError: 'invalid pool request: Pool overlaps with other one on this address space' })
    expect(outcome.status).toBe('failed')
    expect(outcome.diagnoses[0]!.advice).toMatch(/still being torn down on mgr .*moby#48069.*`docker network ls` on mgr/)
    expect(reporter.lines()).toMatch(/\n {4}→ No network the manager lists holds the subnet/)
  })
})

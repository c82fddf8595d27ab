// The engine check reads what the connection already asked the engine
// (/info, when the tunnel probed the manager): no second /info through a new
// channel, and the same cluster ID keys the secret versions.
import { describe, expect, it } from '@jest/globals'
import type { EngineFacts } from '../../src/ports.js'
import { runDeploy } from '../../src/engine.js'
import { COMPOSE, fakeWorld, inputsFor, recordingReporter } from '../support/fake-world.js'

async function deploy(facts: EngineFacts | undefined, clusterId = 'cluster-a') {
  const fake = fakeWorld({ clusterId })
  // A secret from env: its version name is keyed with the cluster ID.
  fake.files.set('docker-compose.yml', `${COMPOSE}secrets:\n  api:\n    environment: DB_PASSWORD\n`)
  const open = fake.adapters.openTunnel
  fake.adapters.openTunnel = async (...args) => ({ ...(await open(...args)), engine: () => facts })
  const reporter = recordingReporter()
  const outcome = await runDeploy(inputsFor(), fake.host, fake.adapters, reporter)
  return { ...fake, reporter, outcome }
}

describe('the engine check', () => {
  it('uses the /info the connection read: no /info call, the same secret versions', async () => {
    const known = await deploy({ serverVersion: '27.1.0', isManager: true, swarmState: 'active', clusterId: 'cluster-a' })
    const asked = await deploy(undefined)
    expect(known.outcome.status).toBe('converged')
    expect(known.effects).not.toContain('info')
    expect(asked.effects).toContain('info')
    expect(known.reporter.lines()).toContain('Docker 27.1.0, swarm manager')
    const secrets = (effects: string[]) => effects.filter(e => e.startsWith('create secret'))
    expect(secrets(known.effects)).toHaveLength(1)
    expect(secrets(known.effects)).toEqual(secrets(asked.effects))
    // Another cluster ID would name it otherwise: the one the connection read is the one used.
    const other = await deploy({ serverVersion: '27.1.0', isManager: true, swarmState: 'active', clusterId: 'cluster-b' })
    expect(secrets(other.effects)).not.toEqual(secrets(known.effects))
  })

  it('asks the engine when the connection did not learn the cluster ID', async () => {
    const { outcome, effects } = await deploy({ serverVersion: '27.1.0', isManager: true, swarmState: 'active' })
    expect(outcome.status).toBe('converged')
    expect(effects).toContain('info')
  })
})

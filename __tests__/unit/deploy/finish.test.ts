// The end of a converged deploy: GitHub's Deployment status and the swarm's
// clean-up run at the same time, and the deploy lock is let go of only when
// both are done. In-process with the fake swarm.
import { describe, expect, it } from '@jest/globals'
import { runDeploy } from '../../../src/engine.js'
import type { DeploymentsClient } from '../../../src/ports.js'
import { COMPOSE, fakeWorld, inputsFor, recordingReporter, STACK } from '../../support/fake-world.js'

/** Lets the other promises of the run go on, a bounded number of turns (no clock involved). */
async function turnsUntil(done: () => boolean, turns = 200): Promise<boolean> {
  for (let i = 0; i < turns && !done(); i++) await new Promise(resolve => setImmediate(resolve))
  return done()
}

describe('finish', () => {
  it("sends GitHub the Deployment's status while the unused versions are removed, and lets the lock go after both", async () => {
    const objects = [{ kind: 'secret' as const, id: 'x1', name: `${STACK}_db_abcdefabcd` }]
    const fake = fakeWorld({ objects, env: { GITHUB_REPOSITORY: 'acme/shop' } })
    fake.files.set('docker-compose.yml', COMPOSE)
    let pruningSeenBySuccess: boolean | undefined
    const client: DeploymentsClient = {
      createDeployment: async () => ({ id: 7 }),
      createStatus: async (_id, body) => {
        if (body.state !== 'success') return
        // GitHub answers slowly: the removal of unused versions does not wait for it.
        pruningSeenBySuccess = await turnsUntil(() => fake.effects.includes('remove secret x1'))
        fake.effects.push('github success')
      },
      listDeployments: async () => []
    }
    fake.adapters.github = () => client
    const outcome = await runDeploy(
      inputsFor({ deployment: { environment: 'production', url: undefined, token: 'gh-token-1234567' } }),
      fake.host,
      fake.adapters,
      recordingReporter()
    )
    expect(outcome.status).toBe('converged')
    expect(pruningSeenBySuccess).toBe(true)
    const unlock = fake.effects.findIndex(e => e.startsWith('unlock '))
    expect(unlock).toBeGreaterThan(fake.effects.indexOf('github success'))
    expect(unlock).toBeGreaterThan(fake.effects.indexOf('remove secret x1'))
  })
})

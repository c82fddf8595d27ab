// The session's Engine API over a connection that may fail over: a demoted
// manager's refusal moves the run to the next manager and the call goes once
// more; a lost quorum, and a failure while no manager serves, say so in words.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { failingOver } from '../../../src/connect/failover-api.js'
import type { SwarmApi } from '../../../src/ports.js'
import { EngineApiError } from '../../../src/swarm/api.js'

const recorded = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/managers/errors.json'), 'utf8')) as Record<
  string,
  string
>

/** An API whose listConfigs answers in turn with each of `answers` (an Error is thrown). */
function scripted(answers: Array<Error | []>): { api: SwarmApi; calls: () => number } {
  let calls = 0
  const api = {
    listConfigs: async () => {
      const answer = answers[calls++]!
      if (answer instanceof Error) throw answer
      return answer
    },
    calls: () => calls,
    close: () => undefined
  } as unknown as SwarmApi
  return { api, calls: () => calls }
}

const statusOf = (text: string): number => Number(/HTTP code (\d+)/.exec(text)![1])

describe('failingOver', () => {
  it('on a demoted manager, fails over and asks once more', async () => {
    const { api, calls } = scripted([new EngineApiError(statusOf(recorded.demoted!), recorded.demoted!), []])
    const failovers: string[] = []
    const guarded = failingOver(api, { failover: reason => void failovers.push(reason), trouble: () => undefined })
    await expect(guarded.listConfigs({})).resolves.toEqual([])
    expect(failovers).toEqual(['it says it is not a swarm manager (demoted to worker, or its engine is stopping)'])
    expect(calls()).toBe(2)
  })

  it('says the swarm has lost its quorum, Docker’s words after, and keeps the status code; no failover', async () => {
    const { api, calls } = scripted([new EngineApiError(500, recorded.lostLeaderStatus!)])
    const failovers: string[] = []
    const guarded = failingOver(api, { failover: reason => void failovers.push(reason), trouble: () => undefined })
    const error = (await guarded.listConfigs({}).catch((e: unknown) => e)) as Error & { statusCode?: number }
    expect(error.message).toMatch(/^the swarm has lost its quorum: .*\(\(HTTP code 500\) POST \/configs\/create: rpc error: .*node lost leader status\)$/)
    expect(error.statusCode).toBe(500)
    expect(failovers).toEqual([])
    expect(calls()).toBe(1)
  })

  it('explains a hang-up by why no manager serves, while the connection is being made again', async () => {
    const { api } = scripted([new Error('socket hang up')])
    const guarded = failingOver(api, { trouble: () => 'no manager serves (a:22: connection refused)' })
    await expect(guarded.listConfigs({})).rejects.toThrow('no manager serves (a:22: connection refused) (socket hang up)')
  })

  it('leaves every other error as it is', async () => {
    const notFound = new EngineApiError(404, '(HTTP code 404) DELETE /configs/x: config x not found')
    const { api } = scripted([notFound])
    await expect(failingOver(api, { trouble: () => undefined }).listConfigs({})).rejects.toBe(notFound)
    expect(failingOver(api, {}).calls()).toBe(1)
  })
})

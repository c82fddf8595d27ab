import { describe, expect, it } from '@jest/globals'
import { getInputs } from '../../../src/inputs/inputs.js'
import { rolloutOf } from '../../../src/converge/rollout.js'

const base: Record<string, string> = { stack: 'web' }
const context = { env: {}, isFile: (p: string) => p === 'docker-compose.yml', readFile: () => '' }
const read = (values: Record<string, string>) => (name: string) => ({ ...base, ...values })[name] ?? ''

describe('capacity-timeout and keep-replicas', () => {
  it('default to today: 15 s for tasks waiting for capacity, the compose file replica counts', () => {
    const inputs = getInputs(read({}), context)
    expect(inputs.capacityTimeoutMs).toBe(15_000)
    expect(inputs.keepReplicas).toBe(false)
    expect(rolloutOf(inputs).capacityTimeoutMs).toBe(15_000)
  })

  it('keep the default with a timeout shorter than it: the deadline decides first, as before capacity-timeout existed', () => {
    expect(getInputs(read({ timeout: '8s' }), context).capacityTimeoutMs).toBe(15_000)
  })

  it('read a duration and a boolean', () => {
    const inputs = getInputs(read({ 'capacity-timeout': '3m', 'keep-replicas': 'true' }), context)
    expect(inputs.capacityTimeoutMs).toBe(180_000)
    expect(inputs.keepReplicas).toBe(true)
  })

  it.each([
    [{ 'capacity-timeout': 'soon' }, /^capacity-timeout: 'soon' is not a duration/],
    [{ 'capacity-timeout': '0s' }, /^capacity-timeout: '0s' is not a duration/],
    [{ 'capacity-timeout': '20m' }, /^capacity-timeout: 20m is longer than timeout \(10m\): the rollout would time out first/],
    [{ 'capacity-timeout': '3m', timeout: '2m' }, /^capacity-timeout: 3m is longer than timeout \(2m\)/],
    [{ 'keep-replicas': 'sometimes' }, /^keep-replicas: /]
  ])('refuse %j before anything runs', (values, message) => {
    expect(() => getInputs(read(values), context)).toThrow(message)
  })
})

import { describe, expect, it } from '@jest/globals'
import type { Healthcheck, Service } from '../../../src/swarm/model.js'
import { configWarnings } from '../../../src/converge/warnings.js'

const S = 1e9
const HOUR = 3_600_000
function service(update: Service['Spec']['UpdateConfig'], healthcheck?: Healthcheck): Service {
  return {
    ID: 's',
    Version: { Index: 1 },
    Spec: { Name: 'web_app', TaskTemplate: { ContainerSpec: { Image: 'app@sha256:1', Healthcheck: healthcheck } }, Mode: {}, UpdateConfig: update }
  }
}

describe('configWarnings', () => {
  it('warns when monitor is shorter than the healthcheck needs to fail', () => {
    const check = { Test: ['CMD', 'true'], Interval: 10 * S, Retries: 3, StartPeriod: 5 * S }
    expect(configWarnings([service({ Monitor: 5 * S, Order: 'start-first' }, check)], new Map(), HOUR)).toEqual([
      'web_app: update monitor (5s) is shorter than the healthcheck needs to declare a task unhealthy (start_period + interval × retries = 35s): Swarm may call a failing update completed; raise deploy.update_config.monitor'
    ])
    expect(configWarnings([service({ Monitor: 40 * S, Order: 'start-first' }, check)], new Map(), HOUR)).toEqual([])
  })

  it('reads the healthcheck of an image this run built, and uses Docker defaults', () => {
    const images = new Map([['app@sha256:1', { Test: ['CMD-SHELL', 'wget -q -O- http://127.0.0.1/'] }]])
    expect(configWarnings([service({})], images, HOUR)).toEqual([
      expect.stringContaining('update monitor (5s) is shorter than the healthcheck needs to declare a task unhealthy (start_period + interval × retries = 90s)')
    ])
  })

  it('warns when the monitor period cannot pass before the timeout', () => {
    const check = { Test: ['CMD', 'true'], Interval: 1 * S, Retries: 1 }
    expect(configWarnings([service({ Monitor: 60 * S }, check)], new Map(), 45_000)).toEqual([
      'web_app: update monitor (60s) is not shorter than the time left before the timeout (45s): a task this deploy starts counts only once it has stayed up that long, so the rollout cannot converge in time; raise the timeout input'
    ])
    expect(configWarnings([service({ Monitor: 60 * S }, check)], new Map(), 61_000)).toEqual([])
    // Nothing to start: nothing to wait for.
    const idle = service({ Monitor: 60 * S }, check)
    idle.Spec.Mode = { Replicated: { Replicas: 0 } }
    expect(configWarnings([idle], new Map(), 45_000)).toEqual([])
  })

  it('warns on start-first without a healthcheck, only when it knows there is none', () => {
    expect(configWarnings([service({ Order: 'start-first' }, { Test: ['NONE'] })], new Map(), HOUR)).toEqual([
      expect.stringMatching(/^web_app: update order start-first without a healthcheck/)
    ])
    // An image it did not build may well have a HEALTHCHECK: no guess.
    expect(configWarnings([service({ Order: 'start-first' })], new Map(), HOUR)).toEqual([])
    expect(configWarnings([service({ Order: 'stop-first' }, { Test: ['NONE'] })], new Map(), HOUR)).toEqual([])
  })
})

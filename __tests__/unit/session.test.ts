// The one session every entry point opens (src/session.ts): what it opens
// beside the login, what it closes, and in which order, whatever fails.
import { describe, expect, it } from '@jest/globals'
import { fakeWorld, recordingReporter } from '../support/fake-world.js'
import { withSession } from '../../src/session.js'

const TARGET = { kind: 'local' } as const

describe('withSession', () => {
  it('connects while the login runs, holds the connection log until Connect, then checks the engine and takes the lock', async () => {
    const fake = fakeWorld()
    const reporter = recordingReporter()
    const lock = { stack: 'shop', ttlMs: 60_000, waitMs: 60_000 }
    const login = async (): Promise<string> => (fake.effects.push('login'), 'logged in')
    const seen = await withSession(TARGET, { host: fake.host, adapters: fake.adapters, reporter }, { login, lock }, async session => {
      expect(session.prepared).toBe('logged in')
      expect(session.lock?.lock.stack).toBe('shop')
      return session.clusterId
    })
    expect(seen).toEqual(expect.any(String))
    expect(fake.effects.indexOf('connect')).toBeLessThan(fake.effects.indexOf('login'))
    expect(reporter.phases()).toEqual(['Connect', 'Check the target engine', 'Take the deploy lock'])
    expect(fake.effects.slice(-2)).toEqual(['unlock shop_lock', 'tunnel closed'])
    expect(fake.leftovers.size).toBe(0)
  })

  it('with connectAfterLogin, reaches for nothing before the login is done', async () => {
    const fake = fakeWorld()
    const login = async (): Promise<void> => void fake.effects.push('login')
    await withSession(
      TARGET,
      { host: fake.host, adapters: fake.adapters, reporter: recordingReporter() },
      { login, connectAfterLogin: true },
      async () => undefined
    )
    expect(fake.effects.indexOf('login')).toBeLessThan(fake.effects.indexOf('connect'))
  })

  it('closes the connection made beside a login that failed, and removes the work dir', async () => {
    const fake = fakeWorld()
    const login = async (): Promise<never> => {
      await new Promise(resolve => setImmediate(resolve))
      throw new Error('docker login refused')
    }
    const reporter = recordingReporter()
    await expect(withSession(TARGET, { host: fake.host, adapters: fake.adapters, reporter }, { login }, async () => 'never')).rejects.toThrow(
      'docker login refused'
    )
    expect(fake.effects).toEqual(['connect', 'tunnel closed'])
    expect(reporter.phases()).toEqual([])
    expect(fake.leftovers.size).toBe(0)
  })

  it('lets go of the lock and closes everything when the work in it throws', async () => {
    const fake = fakeWorld()
    const lock = { stack: 'shop', ttlMs: 60_000, waitMs: 60_000 }
    const failing = withSession(TARGET, { host: fake.host, adapters: fake.adapters, reporter: recordingReporter() }, { lock }, async () => {
      throw new Error('the deploy failed')
    })
    await expect(failing).rejects.toThrow('the deploy failed')
    expect(fake.effects.slice(-2)).toEqual(['unlock shop_lock', 'tunnel closed'])
    expect(fake.leftovers.size).toBe(0)
  })

  it('quiet (the sub-commands, the post step): no phases, its own lines only at debug', async () => {
    const fake = fakeWorld()
    const reporter = recordingReporter()
    await withSession(TARGET, { host: fake.host, adapters: fake.adapters, reporter }, { quiet: true }, async () => undefined)
    expect(reporter.phases()).toEqual([])
    expect(reporter.events.filter(e => e.kind === 'info').map(e => e.text)).not.toContainEqual(expect.stringMatching(/^Docker engine reached|swarm manager$/))
    expect(reporter.events.filter(e => e.kind === 'debug').map(e => e.text)).toContainEqual(expect.stringMatching(/swarm manager$/))
  })
})

// Registry credentials as sources: one per kind, asked in order, the first
// whose `matches` is true gives the login; each kind's words are its own.
import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CredentialSource } from '../../../../src/ports.js'
import { credentialHelperSource } from '../../../../src/registry/credentials/credential-helper.js'
import { dockerConfigSource } from '../../../../src/registry/credentials/docker-config.js'
import { ECR_EXPIRY, ecrSource } from '../../../../src/registry/credentials/ecr.js'
import { loginFrom, selfServed } from '../../../../src/registry/credentials/sources.js'
import { staticSource } from '../../../../src/registry/credentials/static.js'
import { resolveAuth } from '../../../../src/registry/login.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
const expiresAt = new Date('2026-12-07T18:00:00.000Z')

/** A source that records what it was asked. */
function recording(kind: CredentialSource['kind'], matches: (registry: string) => boolean, asked: string[]): CredentialSource {
  return { kind, matches, login: async registry => (asked.push(`${kind} ${registry}`), { registry, username: kind, password: `${kind}-password` }) }
}

describe('loginFrom', () => {
  it('asks only the first source that matches', async () => {
    const asked: string[] = []
    const sources = [recording('static', r => r === 'ghcr.io', asked), recording('ecr', () => true, asked), recording('docker-config', () => true, asked)]
    expect(await loginFrom(sources, 'ghcr.io')).toMatchObject({ username: 'static' })
    expect(await loginFrom(sources, 'quay.io')).toMatchObject({ username: 'ecr' })
    expect(asked).toEqual(['static ghcr.io', 'ecr quay.io'])
    expect(await loginFrom([], 'quay.io')).toBeUndefined()
  })
})

describe('the sources a deploy asks (resolveAuth)', () => {
  const tokens = async (region: string) => ({ username: 'AWS', password: `token-${region}`, expiresAt })
  const helper = async (registry: string) => ({ username: 'helped', password: `kept-for-${registry}` })

  it('the inputs win, even for an ECR registry: no token is asked for, no helper run', async () => {
    const never = async (): Promise<never> => {
      throw new Error('not to be asked')
    }
    expect(await resolveAuth({ registry: ECR, username: 'me', password: 'pw' }, never, never)).toEqual({ registry: ECR, username: 'me', password: 'pw' })
  })

  it('an ECR registry without them gets a token for its region, with its end; the helper is not asked', async () => {
    let helped = 0
    const counted = async (registry: string) => (helped++, helper(registry))
    expect(await resolveAuth({ registry: ECR }, tokens, counted)).toEqual({ registry: ECR, username: 'AWS', password: 'token-eu-west-1', expiresAt })
    expect(helped).toBe(0)
  })

  it('another registry without them gets what a credential helper keeps, or nothing', async () => {
    expect(await resolveAuth({ registry: 'ghcr.io' }, tokens, helper)).toEqual({ registry: 'ghcr.io', username: 'helped', password: 'kept-for-ghcr.io' })
    expect(await resolveAuth({ registry: 'ghcr.io' }, tokens, async () => undefined)).toBeUndefined()
    expect(await resolveAuth({ registry: 'ghcr.io' }, tokens)).toBeUndefined()
    expect(await resolveAuth(undefined, tokens, helper)).toBeUndefined()
  })

  it('each source says which registries are its own', () => {
    expect(staticSource({ registry: 'ghcr.io', username: 'u', password: 'p' }).matches('ghcr.io')).toBe(true)
    expect(staticSource({ registry: 'ghcr.io', username: 'u', password: 'p' }).matches('quay.io')).toBe(false)
    expect(staticSource({ registry: 'ghcr.io' }).matches('ghcr.io')).toBe(false)
    expect(staticSource(undefined).matches('ghcr.io')).toBe(false)
    expect(ecrSource(tokens).matches(ECR)).toBe(true)
    expect(ecrSource(tokens).matches('123456789012.dkr.ecr-fips.us-east-1.amazonaws.com')).toBe(true)
    expect(ecrSource(tokens).matches('ghcr.io')).toBe(false)
    expect(credentialHelperSource(helper).matches('anything.example')).toBe(true)
  })

  it('a refresh needs no registry-username only where a source logs in with nothing given', () => {
    expect(selfServed(ECR)).toBe(true)
    expect(selfServed('ghcr.io')).toBe(false)
  })
})

describe('the docker-config source', () => {
  it("reads a login from the run's Docker config, or none", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rows-config-'))
    const auth = Buffer.from('me:pw:with:colons').toString('base64')
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { 'https://ghcr.io': { auth } } }))
    expect(await dockerConfigSource(dir).login('ghcr.io')).toEqual({ registry: 'ghcr.io', username: 'me', password: 'pw:with:colons' })
    expect(await dockerConfigSource(dir).login('quay.io')).toBeUndefined()
    expect(await dockerConfigSource(path.join(dir, 'none')).login('ghcr.io')).toBeUndefined()
  })
})

describe("ECR's words", () => {
  it('are the log lines and summary sentences the run has always printed', () => {
    const now = expiresAt.getTime() - 12 * 3_600_000
    const iso = expiresAt.toISOString()
    expect(ECR_EXPIRY.stored(ECR, expiresAt, now)).toBe(
      `The ECR token for ${ECR} stored in the services expires at ${iso} (in 12.0 h); after that a node that must pull again (a rescheduled task, a new node) fails with "no basic auth credentials": run the action with refresh-registry-auth: true (or swarm-deploy refresh-auth) on a schedule shorter than that, e.g. every 6 hours: examples/workflows/refresh-registry-auth.yml`
    )
    expect(ECR_EXPIRY.refreshed(ECR, expiresAt, now)).toBe(
      `The new ECR token for ${ECR} expires at ${iso} (in 12.0 h): refresh again before then (run the action with refresh-registry-auth: true (or swarm-deploy refresh-auth) on a schedule shorter than that, e.g. every 6 hours: examples/workflows/refresh-registry-auth.yml)`
    )
    expect(ECR_EXPIRY.refreshSummary(iso)).toBe(`The new ECR token expires at ${iso}: the next scheduled refresh must run before then.`)
    expect(ECR_EXPIRY.refreshText(iso)).toBe(`The new ECR token expires at ${iso}.`)
  })

  it('no code outside the ECR source says ECR: only the documentation of the inputs and of refresh-auth --help does', () => {
    const saying: string[] = []
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name)
        if (entry.isDirectory()) walk(full)
        else if (entry.name.endsWith('.ts')) {
          const file = path.relative(ROOT, full)
          const text = readFileSync(full, 'utf8').replace(/^\s*(\/\/|\*|\/\*).*$/gm, '')
          // Text in quotes or backticks that names ECR.
          for (const [literal] of text.matchAll(/'[^'\n]*'|"[^"\n]*"|`[^`]*`/g)) if (/\bECR\b/.test(literal)) saying.push(file)
        }
      }
    }
    walk(path.join(ROOT, 'src'))
    const documentation = ['src/inputs/table.ts', 'src/cli/refresh-auth.ts']
    expect([...new Set(saying)].filter(file => !documentation.includes(file))).toEqual(['src/registry/credentials/ecr.ts'])
  })
})

// build: false through the engine, with fake adapters and a fake registry
// API: the tag is resolved before anything connects, nothing is built or
// pushed, and a missing or unreachable registry stops the run before the swarm is asked anything.
import { describe, expect, it } from '@jest/globals'
import { exitCode } from '../../src/cli/main.js'
import { runDeploy } from '../../src/engine.js'
import type { Inputs } from '../../src/inputs/inputs.js'
import { COMPOSE, DIGEST, fakeWorld, inputsFor, REPO, recordingReporter } from '../support/fake-world.js'
import { deployOutputs } from '../../src/report/outputs.js'

const REGISTRY_DIGEST = `sha256:${'cd'.repeat(32)}`

/** The registry API: `v1` exists (Basic auth, as the inputs' credentials give it); nothing else does. */
function registryApi(asked: string[], behaviour: 'answers' | 'unreachable' = 'answers'): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input))
    asked.push(`${init?.method ?? 'GET'} ${url.href}`)
    if (behaviour === 'unreachable') throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })
    const headers = new Headers(init?.headers)
    if (headers.get('authorization') !== `Basic ${Buffer.from('ci:registry-pw').toString('base64')}`) {
      return new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="fake"' } })
    }
    if (url.pathname === '/v2/acme/shop/manifests/v1') return new Response(null, { status: 200, headers: { 'docker-content-digest': REGISTRY_DIGEST } })
    return new Response(null, { status: 404 })
  }
}

async function deployExisting(tags: string[], behaviour: 'answers' | 'unreachable' = 'answers') {
  const fake = fakeWorld()
  fake.files.set('docker-compose.yml', COMPOSE)
  const reporter = recordingReporter()
  const asked: string[] = []
  const base = inputsFor()
  const inputs: Inputs = { ...base, image: { ...base.image!, tags, build: false } }
  const outcome = await runDeploy(inputs, fake.host, { ...fake.adapters, registryFetch: registryApi(asked, behaviour) }, reporter)
  return { ...fake, reporter, outcome, asked }
}

describe('build: false in the engine', () => {
  it('resolves the tag in the registry before connecting, builds and pushes nothing, and deploys the digest', async () => {
    const { outcome, reporter, effects, asked } = await deployExisting(['v1'])
    expect(outcome.stopped).toBeUndefined()
    expect(outcome.status).toBe('converged')
    expect(reporter.phases().slice(0, 3)).toEqual(['Log in to registry.example.com:5000', `Resolve ${REPO}:v1`, 'Connect'])
    expect(effects).not.toContain('build')
    expect(effects.filter(e => e.startsWith('push'))).toEqual([])
    expect(outcome.image).toEqual({ digest: REGISTRY_DIGEST, pinned: `${REPO}:v1@${REGISTRY_DIGEST}`, healthcheck: undefined })
    expect(Object.fromEntries(deployOutputs(outcome))).toMatchObject({ image: `${REPO}:v1@${REGISTRY_DIGEST}`, digest: REGISTRY_DIGEST })
    expect(REGISTRY_DIGEST).not.toBe(DIGEST)
    expect(asked.slice(0, 2)).toEqual([
      'HEAD https://registry.example.com:5000/v2/acme/shop/manifests/v1',
      'HEAD https://registry.example.com:5000/v2/acme/shop/manifests/v1'
    ])
    // Then, for the healthcheck, reads of that manifest by digest (which this fake does not have): never a write.
    expect(asked.slice(2)).toEqual([`GET https://registry.example.com:5000/v2/acme/shop/manifests/${REGISTRY_DIGEST}`])
  })

  it('stops on a missing tag before anything connects, naming the tag and the registry', async () => {
    const { outcome, reporter, effects } = await deployExisting(['v9'])
    expect(outcome.stopped).toEqual({
      kind: 'error',
      message:
        'image: tag v9 of acme/shop was not found on registry registry.example.com:5000. With build: false the tag must already be in the registry. Nothing was deployed.'
    })
    expect(outcome.status).toBeUndefined()
    // The SSH handshake may have begun meanwhile; the swarm is never asked or changed.
    expect(reporter.phases()).toEqual(['Log in to registry.example.com:5000', `Resolve ${REPO}:v9`])
    expect(effects.filter(e => !['login', 'connect', 'tunnel closed'].includes(e))).toEqual([])
    expect(Object.fromEntries(deployOutputs(outcome)).image).toBeUndefined()
    expect(exitCode(outcome)).toBe(1)
  })

  it('reports an unreachable registry as unreachable, and deploys nothing', async () => {
    const { outcome, effects, reporter } = await deployExisting(['v1'], 'unreachable')
    expect(outcome.stopped?.kind).toBe('unreachable')
    expect(outcome.stopped?.message).toMatch(
      /^image: cannot resolve registry\.example\.com:5000\/acme\/shop:v1 to a digest: cannot reach registry registry\.example\.com:5000 at https:\/\/registry\.example\.com:5000: ECONNREFUSED/
    )
    expect(reporter.phases()).not.toContain('Connect')
    expect(effects).not.toContain('stack deploy')
    expect(exitCode(outcome)).toBe(3)
  })

  it('warns that tags after the first are neither pushed nor moved', async () => {
    const { reporter } = await deployExisting(['v1', 'latest'])
    const warnings = reporter.events.filter(e => e.kind === 'warn' && e.text.startsWith('build is false')).map(e => e.text)
    expect(warnings).toEqual([`build is false: ${REPO}:v1 is deployed; the other tags (latest) are neither pushed nor moved`])
  })
})

// GitHub Deployments from the bundled action on the lab: a local stand-in of
// the REST API (a real HTTP server on 127.0.0.1, through GITHUB_API_URL)
// records the deployment and its statuses; a 403 is one warning.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as path from 'node:path'
import type { Lab } from './harness.js'
import { expectVerdict, loadLab, removeStack, ROOT, runAction, sshInputs } from './harness.js'
import { githubStandIn } from '../support/github-api.js'
import type { GitHubStandIn } from '../support/github-api.js'

jest.setTimeout(180_000)

const run = Date.now().toString(36)
const STACKS = { ok: `e2e-gh-${run}`, bad: `e2e-ghbad-${run}`, denied: `e2e-gh403-${run}` }
const TOKEN = `ghs_e2e_${run}_token`
const CONVERGE = path.join(ROOT, 'examples/converge')

let lab: Lab
let standIn: GitHubStandIn | undefined

beforeAll(() => {
  lab = loadLab()
})
afterEach(async () => {
  await standIn?.close()
  standIn = undefined
})
afterAll(async () => {
  for (const stack of Object.values(STACKS)) await removeStack(lab, stack)
})

function inputs(stack: string, file: string): Record<string, string> {
  return {
    ...sshInputs(lab),
    stack,
    'compose-file': path.join(CONVERGE, file),
    env: `BASE_IMAGE=${lab.registry}/lab/busybox:1`,
    registry: lab.registry,
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    environment: 'lab',
    'environment-url': 'https://shop.example',
    'github-token': TOKEN,
    timeout: '2m'
  }
}

const runner = (url: string): Record<string, string> => ({
  GITHUB_API_URL: url,
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_SERVER_URL: 'https://github.example',
  GITHUB_RUN_ID: '4242'
})

const states = (s: GitHubStandIn): string[] => s.requests.map(r => `${r.method} ${r.path.split('?')[0]} ${String(r.body?.state ?? '')}`.trim())

describe('GitHub Deployments', () => {
  it('a converged deploy: deployment, in_progress, success with log_url and environment_url', async () => {
    standIn = await githubStandIn()
    const result = await runAction(lab, inputs(STACKS.ok, 'zero.yml'), { env: runner(standIn.url) })
    expectVerdict(result, 0, 'converged')
    expect(states(standIn).slice(0, 3)).toEqual([
      'POST /repos/acme/shop/deployments',
      'POST /repos/acme/shop/deployments/100/statuses in_progress',
      'POST /repos/acme/shop/deployments/100/statuses success'
    ])
    expect(standIn.requests[0]!.body).toMatchObject({ ref: 'e2e0000000000000000000000000000000000000', environment: 'lab' })
    for (const status of standIn.requests.slice(1, 3)) {
      expect(status.body).toMatchObject({ log_url: 'https://github.example/acme/shop/actions/runs/4242', environment_url: 'https://shop.example' })
    }
    // The older deployment of the environment goes inactive.
    expect(states(standIn)).toContain('POST /repos/acme/shop/deployments/7/statuses inactive')
    expect(standIn.requests[0]!.authorization).toBe(`token ${TOKEN}`)
    expect(result.log).not.toContain(TOKEN)
    expect(result.log).not.toContain('::warning::GitHub Deployments')
  })

  it('a failed deploy: in_progress, then failure', async () => {
    standIn = await githubStandIn()
    const result = await runAction(lab, inputs(STACKS.bad, 'missing-image.yml'), { env: runner(standIn.url) })
    expectVerdict(result, 'non-zero', 'failed')
    expect(states(standIn)).toEqual([
      'POST /repos/acme/shop/deployments',
      'POST /repos/acme/shop/deployments/100/statuses in_progress',
      'POST /repos/acme/shop/deployments/100/statuses failure'
    ])
    expect(standIn.requests[2]!.body).toMatchObject({ log_url: 'https://github.example/acme/shop/actions/runs/4242' })
  })

  it('a 403 is one warning, and the deploy still converges', async () => {
    standIn = await githubStandIn({ deny: 403 })
    const result = await runAction(lab, inputs(STACKS.denied, 'zero.yml'), { env: runner(standIn.url) })
    expectVerdict(result, 0, 'converged')
    expect(result.log.split('\n').filter(l => l.startsWith('::warning::GitHub Deployments'))).toHaveLength(1)
    expect(standIn.requests).toHaveLength(1)
  })
})

// GitHub Deployments: the calls made, through the real Octokit client against
// the local stand-in, and that a refusal is one warning and never an error.
import { afterEach, describe, expect, it } from '@jest/globals'
import { runDeploy } from '../../../src/engine.js'
import { Deployment } from '../../../src/github/deployments.js'
import { octokitDeployments } from '../../../src/github/octokit.js'
import { Redactor } from '../../../src/secrets.js'
import { COMPOSE, DB_PASSWORD, fakeWorld, inputsFor, recordingReporter } from '../../support/fake-world.js'
import { githubStandIn } from '../../support/github-api.js'
import type { GitHubStandIn } from '../../support/github-api.js'

let standIn: GitHubStandIn | undefined
afterEach(async () => {
  await standIn?.close()
  standIn = undefined
})

function track(url: string, redact: (text: string) => string = text => text) {
  const warnings: string[] = []
  const deployment = new Deployment(
    octokitDeployments('ghs_token_value', url, 'acme/shop'),
    { environment: 'lab', environmentUrl: 'https://shop.example', logUrl: 'https://github.com/acme/shop/actions/runs/9' },
    line => warnings.push(line),
    () => undefined,
    redact
  )
  return { deployment, warnings }
}

/** The descriptions GitHub was sent, in order. */
const descriptions = (requests: Array<{ body: Record<string, unknown> | undefined }>): string[] =>
  requests.map(r => r.body?.description).filter((d): d is string => typeof d === 'string')

describe('GitHub Deployments', () => {
  it('creates a deployment, then in_progress and success with log_url, and marks older ones inactive', async () => {
    standIn = await githubStandIn()
    const { deployment, warnings } = track(standIn.url)
    await deployment.start('abc123', 'swarm-deploy shop')
    await deployment.finish(true, 'converged')
    expect(warnings).toEqual([])
    const calls = standIn.requests.map(r => `${r.method} ${r.path} ${String(r.body?.state ?? r.body?.environment ?? '')}`)
    expect(calls).toEqual([
      'POST /repos/acme/shop/deployments lab',
      'POST /repos/acme/shop/deployments/100/statuses in_progress',
      'POST /repos/acme/shop/deployments/100/statuses success',
      'GET /repos/acme/shop/deployments?environment=lab&per_page=10 ',
      'POST /repos/acme/shop/deployments/7/statuses inactive'
    ])
    expect(standIn.requests[0]!.body).toMatchObject({ ref: 'abc123', environment: 'lab', auto_merge: false, required_contexts: [] })
    expect(standIn.requests[2]!.body).toMatchObject({
      log_url: 'https://github.com/acme/shop/actions/runs/9',
      environment_url: 'https://shop.example',
      auto_inactive: true
    })
    expect(standIn.requests[0]!.authorization).toBe('token ghs_token_value')
  })

  it('sets failure for a deploy that does not converge, and marks nothing inactive', async () => {
    standIn = await githubStandIn()
    const { deployment } = track(standIn.url)
    await deployment.start('abc123', 'x')
    await deployment.finish(false, 'failed')
    expect(standIn.requests.map(r => r.body?.state).filter(Boolean)).toEqual(['in_progress', 'failure'])
  })

  it('a 403 is one warning and no further call', async () => {
    standIn = await githubStandIn({ deny: 403 })
    const { deployment, warnings } = track(standIn.url)
    await deployment.start('abc123', 'x')
    await deployment.finish(true, 'converged')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/HTTP 403: the token cannot write deployments/)
    expect(standIn.requests).toHaveLength(1)
  })

  it('a server that cannot be reached is one warning', async () => {
    const { deployment, warnings } = track('http://127.0.0.1:9')
    await deployment.start('abc123', 'x')
    await deployment.finish(true, 'converged')
    expect(warnings).toHaveLength(1)
  })

  it('a call that gets no answer is given up after 5 s', async () => {
    standIn = await githubStandIn({ hang: true })
    const { deployment, warnings } = track(standIn.url)
    const started = Date.now()
    await deployment.start('abc123', 'x')
    const took = Date.now() - started
    expect(took).toBeGreaterThanOrEqual(4_900)
    expect(took).toBeLessThan(8_000)
    expect(warnings).toHaveLength(1)
  }, 15_000)

  it('sends every description redacted, as the log is', async () => {
    standIn = await githubStandIn()
    const redactor = new Redactor()
    redactor.add('hunter2-db-password')
    redactor.add('prod')
    const { deployment } = track(standIn.url, text => redactor.redact(text))
    await deployment.start('abc123', 'swarm-deploy prod')
    await deployment.finish(false, 'failed to create service shop_web: invalid env "DB_PASSWORD=hunter2-db-password"')
    expect(descriptions(standIn.requests)).toEqual(['swarm-deploy ***', 'swarm-deploy ***', 'failed to create service shop_web: invalid env "DB_PASSWORD=***"'])
  })

  it('the engine sends GitHub the failed docker stack deploy redacted, even where its stderr quoted a secret', async () => {
    standIn = await githubStandIn()
    const fake = fakeWorld({ env: { GITHUB_REPOSITORY: 'acme/shop', GITHUB_API_URL: standIn.url } })
    fake.files.set('docker-compose.yml', COMPOSE)
    fake.adapters.github = octokitDeployments
    const dockerCli = fake.adapters.dockerCli
    fake.adapters.dockerCli = (...args) => {
      const cli = dockerCli(...args)
      return {
        run: async (argv, options) =>
          argv[0] === 'stack' && argv[1] === 'deploy'
            ? {
                code: 1,
                stdout: '',
                stderr: `invalid env "DB_PASSWORD=${DB_PASSWORD}"\n`,
                timedOut: false
              }
            : cli.run(argv, options)
      }
    }
    const reporter = recordingReporter()
    await runDeploy(inputsFor({ deployment: { environment: 'production', url: undefined, token: 'gh-token-1234567' } }), fake.host, fake.adapters, reporter)
    const sent = standIn.requests.filter(r => r.body?.state === 'failure')
    expect(sent).toHaveLength(1)
    expect(JSON.stringify(standIn.requests)).not.toContain(DB_PASSWORD.slice(0, 6))
    expect(sent[0]!.body!.description).toBe('docker stack deploy failed (docker exit code 1): invalid env "DB_PASSWORD=***"')
  })
})

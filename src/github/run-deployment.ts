// The run's GitHub Deployment, if it is to have one: the front end's token and
// the runner's variables decide; a job that cannot reach the API deploys all the same.
import type { Inputs } from '../inputs/inputs.js'
import type { Adapters, Host, Reporter } from '../ports.js'
import type { Secrets } from '../secrets.js'
import { Deployment } from './deployments.js'

/** GitHub Deployments when an environment is set and the job can reach the API; undefined otherwise. */
export function githubDeployment(inputs: Inputs, host: Host, adapters: Adapters, reporter: Reporter, secrets: Secrets): Deployment | undefined {
  const wanted = inputs.deployment
  if (!wanted) return undefined
  const { GITHUB_REPOSITORY: repository, GITHUB_SERVER_URL: server, GITHUB_RUN_ID: runId } = host.env
  if (wanted.token === '' || !repository || !adapters.github) {
    reporter.warn(
      `GitHub Deployments: environment ${wanted.environment} is set but ${wanted.token === '' ? 'there is no github-token' : 'GITHUB_REPOSITORY is not set'}; the deploy goes on without them`
    )
    return undefined
  }
  const logUrl = server && runId ? `${server}/${repository}/actions/runs/${runId}` : undefined
  const client = adapters.github(wanted.token, host.env.GITHUB_API_URL || 'https://api.github.com', repository)
  return new Deployment(
    client,
    { environment: wanted.environment, environmentUrl: wanted.url, logUrl },
    line => reporter.warn(line),
    line => reporter.info(line),
    text => secrets.redact(text)
  )
}

// The real DeploymentsClient: @actions/github's Octokit at GITHUB_API_URL,
// each call bounded to 5 s. Loaded on first use: only runs with an
// environment need it, and it is a large part of the bundle (undici).
import type { DeploymentsClient } from '../ports.js'

type Octokit = ReturnType<typeof import('@actions/github').getOctokit>

const CALL_TIMEOUT_MS = 5_000

export function octokitDeployments(token: string, baseUrl: string, repository: string): DeploymentsClient {
  let loading: Promise<Octokit> | undefined
  const client = (): Promise<Octokit> => (loading ??= import('@actions/github').then(({ getOctokit }) => getOctokit(token, { baseUrl })))
  const [owner = '', repo = ''] = repository.split('/')
  const bounded = () => ({ request: { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) } })
  return {
    async createDeployment(body) {
      const response = await (await client()).rest.repos.createDeployment({ owner, repo, ...body, auto_merge: false, required_contexts: [], ...bounded() })
      const id = (response.data as { id?: number }).id
      // 202 means GitHub merged the default branch in first; no deployment was made.
      if (typeof id !== 'number') throw new Error(`GitHub made no deployment (HTTP ${response.status})`)
      return { id }
    },
    async createStatus(id, body) {
      await (await client()).rest.repos.createDeploymentStatus({ owner, repo, deployment_id: id, ...body, ...bounded() })
    },
    async listDeployments(environment) {
      const response = await (await client()).rest.repos.listDeployments({ owner, repo, environment, per_page: 10, ...bounded() })
      return response.data.map(d => ({ id: d.id }))
    }
  }
}

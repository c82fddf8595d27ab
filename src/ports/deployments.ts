// GitHub Deployments (src/github/deployments.ts, Octokit in src/github/octokit.ts).

/** The slice of the REST API used, behind a seam (Octokit in production, a fake in tests). */
export interface DeploymentsClient {
  createDeployment(body: { ref: string; environment: string; description: string }): Promise<{ id: number }>
  createStatus(
    id: number,
    body: { state: DeploymentState; log_url?: string; environment_url?: string; description: string; auto_inactive?: boolean }
  ): Promise<void>
  /** The newest deployments of an environment (one page). */
  listDeployments(environment: string): Promise<Array<{ id: number }>>
}

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'inactive'

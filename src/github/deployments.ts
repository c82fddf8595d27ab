// GitHub Deployments for a run with an `environment`: a deployment for the
// ref, `in_progress` while it rolls out, then `success` (older deployments of
// the environment go inactive) or `failure`. This API never fails a deploy:
// the first error is one warning, and no further call is made. Every
// description is redacted by the run's secrets before it leaves: an error
// can quote docker's stderr, and GitHub keeps what it is sent.

import { plainText } from '../report/plain-text.js'
import type { DeploymentState, DeploymentsClient } from '../ports.js'

export interface DeploymentTarget {
  environment: string
  environmentUrl: string | undefined
  logUrl: string | undefined
}

/** An HTTP status on an Octokit error, if it has one. */
function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown }).status
  return typeof status === 'number' ? status : undefined
}

export class Deployment {
  private id: number | undefined
  private off = false

  constructor(
    private readonly client: DeploymentsClient,
    private readonly target: DeploymentTarget,
    private readonly warn: (line: string) => void,
    private readonly info: (line: string) => void,
    /** The log's redaction (the run's Secrets). */
    private readonly redact: (text: string) => string
  ) {}

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.off) return undefined
    try {
      return await fn()
    } catch (error) {
      this.off = true
      const status = statusOf(error)
      const why =
        status === 401 || status === 403 || status === 404
          ? `HTTP ${status}: the token cannot write deployments (give the job \`permissions: deployments: write\`, or github-token)`
          : (error as Error).message
      this.warn(`GitHub Deployments: could not ${what} (${why}); the deploy goes on without them`)
      return undefined
    }
  }

  async start(ref: string, description: string): Promise<void> {
    const created = await this.call(`create a deployment for ${this.target.environment}`, () =>
      this.client.createDeployment({ ref, environment: this.target.environment, description: this.describe(description) })
    )
    if (!created) return
    this.id = created.id
    this.info(`GitHub deployment ${created.id} for environment ${this.target.environment}`)
    await this.status('in_progress', description)
  }

  async finish(converged: boolean, description: string): Promise<void> {
    await this.status(converged ? 'success' : 'failure', description)
    if (!converged || this.id === undefined) return
    const ours = this.id
    const older = await this.call('list the older deployments', () => this.client.listDeployments(this.target.environment))
    for (const { id } of (older ?? []).filter(d => d.id < ours)) {
      await this.call(`mark deployment ${id} inactive`, () =>
        this.client.createStatus(id, { state: 'inactive', description: `Replaced by deployment ${ours}` })
      )
    }
  }

  /** Redacted first, then cut to GitHub's 140 characters: cut first, a secret's head would go out. */
  private describe(description: string): string {
    return plainText(this.redact(description)).slice(0, 140)
  }

  private async status(state: DeploymentState, description: string): Promise<void> {
    const id = this.id
    if (id === undefined) return
    await this.call(`set deployment ${id} to ${state}`, () =>
      this.client.createStatus(id, {
        state,
        ...(this.target.logUrl ? { log_url: this.target.logUrl } : {}),
        ...(this.target.environmentUrl ? { environment_url: this.target.environmentUrl } : {}),
        description: this.describe(description),
        ...(state === 'success' ? { auto_inactive: true } : {})
      })
    )
  }
}

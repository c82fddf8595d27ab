// `rebalance: true`: the rebalance as a step of a deploy, on its session and
// under its lock, once the deploy converged (a stack still rolling out is not
// spread as it will be). Its own deadline (`timeout` again): the deploy's may
// be nearly spent by then. With dry-run, the preview says what would move.
import type { DeployRun } from '../deploy/deploy-run.js'
import { rebalanceStack } from './rebalance.js'

export async function rebalanceAfterDeploy(run: DeployRun): Promise<void> {
  const { plan, api, host, reporter, secrets, outcome } = run
  const { stack, timeoutMs, rollbackOnFailure } = plan.inputs
  if (outcome.status !== 'converged') {
    reporter.info(`rebalance: not done, the deploy ended ${outcome.status ?? 'without a verdict'}`)
    return
  }
  const redact = (text: string): string => secrets.redact(text)
  const result = await rebalanceStack({ api, stack, host, reporter, redact, deadline: host.now() + timeoutMs, rollbackOnFailure, dryRun: false })
  outcome.rebalance = result
  const moved = result.verdict
  if (!moved || moved.status === 'converged' || !outcome.verdict) return
  // The release converged and stays recorded so; the run did not end well, and says why.
  const verdict = { ...outcome.verdict, status: moved.status, summary: `The deploy converged, but its rebalance did not: ${moved.summary}` }
  outcome.status = moved.status
  outcome.verdict = verdict
  if (outcome.report) outcome.report = { ...outcome.report, verdict }
  reporter.warn(verdict.summary)
}

/** With dry-run: the spread now, and what a rebalance would move (after a deploy that changes the services, it may differ). */
export async function previewRebalance(run: DeployRun): Promise<void> {
  const { plan, api, host, reporter, secrets, outcome } = run
  const { stack, timeoutMs, rollbackOnFailure } = plan.inputs
  const redact = (text: string): string => secrets.redact(text)
  const live = await api.snapshot(stack)
  if (live.services.length === 0) {
    reporter.info('rebalance: the stack has no services on this swarm yet; nothing to move')
    return
  }
  outcome.rebalance = await rebalanceStack({ api, stack, host, reporter, redact, deadline: host.now() + timeoutMs, rollbackOnFailure, dryRun: true })
}

// The rebalance of a stack on a session that is open: which replicated
// services are spread unevenly (spread.ts decides), a rolling `--force`
// update of each (ForceUpdate + 1 on the spec as the API gave it, so nothing
// else changes and the service's own update config paces it), and the
// judge's verdict on those services, bounded by the deadline. Used by
// `swarm-deploy rebalance` (run.ts) and by a deploy with `rebalance: true`.
import { baselineOf, deployedOf } from '../converge/spec.js'
import { POLL_MS } from '../converge/rollout.js'
import type { Verdict } from '../converge/verdict.js'
import { watch } from '../converge/watch.js'
import { isOutOfSequence, UPDATE_ATTEMPTS } from '../deploy/registry-auth.js'
import type { Host, Reporter, SwarmApi } from '../ports.js'
import { redactStrings } from '../secrets.js'
import type { Snapshot } from '../swarm/model.js'
import type { SpreadDecision } from './spread.js'
import { decisionLine, rebalancePlan } from './spread.js'

export interface RebalanceContext {
  api: SwarmApi
  stack: string
  host: Pick<Host, 'now' | 'sleep'>
  reporter: Pick<Reporter, 'info' | 'warn' | 'phase'>
  redact: (text: string) => string
  /** Epoch ms: the verdict is `timed-out` if the moved services have not settled by then. */
  deadline: number
  rollbackOnFailure: boolean
  /** Say what would move, move nothing. */
  dryRun: boolean
}

export interface RebalanceResult {
  stack: string
  /** Each service of the stack as it was found: even, uneven (and what would move where) or left alone. */
  decisions: SpreadDecision[]
  /** The judge's verdict on the services moved; undefined when nothing moved (even, or dry-run). */
  verdict: Verdict | undefined
  /** The services moved, as their spread is after the verdict. */
  after: SpreadDecision[]
}

export async function rebalanceStack(context: RebalanceContext): Promise<RebalanceResult> {
  const { api, stack, reporter, dryRun } = context
  const result: RebalanceResult = { stack, decisions: [], verdict: undefined, after: [] }
  const title = dryRun ? `Preview the rebalance of stack ${stack}` : `Rebalance stack ${stack}`
  const before = await reporter.phase(title, async () => {
    const found = await api.snapshot(stack)
    result.decisions = redactStrings(rebalancePlan(found, stack), context.redact)
    if (result.decisions.length === 0) throw new Error(`stack ${stack} has no services on this swarm: nothing to rebalance`)
    for (const decision of result.decisions) reporter.info(decisionLine(decision))
    const uneven = result.decisions.filter(d => d.kind === 'uneven')
    if (uneven.length === 0) reporter.info(`Stack ${stack}: every service is spread as evenly as its placement allows; nothing to move`)
    else if (dryRun) reporter.info(`Dry run: ${uneven.length} service(s) would get a rolling --force update to move tasks; nothing was changed`)
    else for (const decision of uneven) await forceUpdate(api, decision.id, decision.service, context)
    return found
  })
  const ids = new Set(result.decisions.filter(d => d.kind === 'uneven').map(d => d.id))
  if (dryRun || ids.size === 0) return result
  result.verdict = await reporter.phase('Wait for the rebalance', () => judgeMoved(context, only(before, ids), ids))
  result.after = redactStrings(rebalancePlan(only(await api.snapshot(stack, [...ids]), ids), stack), context.redact)
  for (const decision of result.after) {
    if (decision.kind === 'uneven') reporter.warn(`${decision.service}: still uneven after the update: ${decisionLine(decision)}`)
    else if (decision.kind === 'even') reporter.info(`${decision.service}: now ${decision.spread.map(s => `${s.node} ${s.tasks}`).join(', ')}`)
  }
  return result
}

const only = (snapshot: Snapshot, ids: Set<string>): Snapshot => ({
  ...snapshot,
  services: snapshot.services.filter(s => ids.has(s.ID)),
  tasks: snapshot.tasks.filter(t => ids.has(t.ServiceID))
})

/**
 * `docker service update --force` through the API: the spec as it was read,
 * ForceUpdate one higher, at the version read. A change made by someone else
 * in between means reading it again, a bounded number of times.
 */
async function forceUpdate(api: SwarmApi, id: string, name: string, { reporter, redact }: RebalanceContext): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const service = await api.readService(id)
    const template = service.Spec.TaskTemplate
    const spec = { ...service.Spec, TaskTemplate: { ...template, ForceUpdate: (template.ForceUpdate ?? 0) + 1 } }
    try {
      const warnings = await api.updateService(id, service.Version.Index, spec)
      for (const warning of warnings) reporter.warn(`${name}: ${redact(warning)}`)
      reporter.info(`${name}: rolling --force update started (ForceUpdate ${spec.TaskTemplate.ForceUpdate}, nothing else changed)`)
      return
    } catch (error) {
      if (!isOutOfSequence(error) || attempt >= UPDATE_ATTEMPTS) throw new Error(`${name}: the --force update was refused: ${redact((error as Error).message)}`)
      reporter.info(`${name}: changed while it was being updated (update out of sequence); reading it again (attempt ${attempt + 1} of ${UPDATE_ATTEMPTS})`)
    }
  }
}

/** The judge on the moved services, from the spec each has now (the forced one) to its verdict, as a deploy is judged. */
async function judgeMoved(context: RebalanceContext, before: Snapshot, ids: Set<string>): Promise<Verdict> {
  const { api, stack, host, reporter, redact, deadline, rollbackOnFailure } = context
  const view: SwarmApi = { ...api, snapshot: async (name, serviceIds) => only(await api.snapshot(name, serviceIds ?? [...ids]), ids) }
  const baseline = baselineOf(before, stack)
  const deployedAt = host.now()
  const after = await view.snapshot(stack)
  const { verdict } = await watch(view, {
    stack,
    pollMs: POLL_MS,
    rollbackOnFailure,
    baseline,
    deployed: deployedOf(baseline, after, stack),
    deployedAt,
    deadline,
    log: line => reporter.info(line),
    now: host.now,
    sleep: host.sleep,
    first: { snapshot: after, polledAt: deployedAt }
  })
  const redacted = redactStrings(verdict, redact)
  reporter.info(`Rebalance of stack ${stack}: ${redacted.status}. ${redacted.summary}`)
  return redacted
}

// One of the cleanup's jobs, from start to removal: created with the docker
// CLI, its tasks watched through the Engine API until each node's has ended
// or the job's own deadline passes, each finished task's log read, and the
// service removed whatever happened.
import { demuxLogs } from '../converge/diagnose.js'
import { runOrThrow } from '../docker-cli.js'
import type { DockerCli, Host, Reporter, SwarmApi } from '../ports.js'
import type { Task } from '../swarm/model.js'
import type { JobSpec } from './job-spec.js'
import { JOB_LABEL, jobName, jobServiceArgs } from './job-spec.js'

export interface JobDeps {
  cli: DockerCli
  api: Pick<SwarmApi, 'serviceTasks' | 'taskLogs'>
  host: Pick<Host, 'now' | 'sleep'>
  reporter: Pick<Reporter, 'info' | 'warn' | 'debug'>
  /** The run's socket to the manager's engine. */
  socketPath: string
}

/** What one node's task came to: its log, or why there is none. */
export type NodeRun = { node: string; log: string } | { node: string; problem: string }

const POLL_MS = 1_000
const LOG_TIMEOUT_MS = 15_000
/** The log's whole length; a node with thousands of images prints as many lines. */
const LOG_LINES = 1_000_000
const CLI_TIMEOUT_MS = 60_000

const dockerHost = (deps: Pick<JobDeps, 'socketPath'>) => ({ DOCKER_HOST: `unix://${deps.socketPath}` })

/** A task that ended on its node, or that Swarm could not start there (rejected: it would only try again). */
function ended(tasks: Task[]): { task: Task; ok: boolean } | undefined {
  const done = tasks.find(t => t.Status.State === 'complete')
  if (done) return { task: done, ok: true }
  const bad = tasks.find(t => ['failed', 'rejected', 'orphaned', 'shutdown'].includes(t.Status.State))
  return bad ? { task: bad, ok: false } : undefined
}

/** Runs the job on `nodes` (the others are constrained out) until each is done or `deadline` (epoch ms); removes it in any case. */
export async function runJob(spec: JobSpec, nodes: string[], deadline: number, deps: JobDeps): Promise<NodeRun[]> {
  const { cli, api, host, reporter } = deps
  // Every node skipped: a job with no node to run on would only wait for its deadline.
  if (nodes.length === 0) return []
  const created = await runOrThrow(cli, `creating the ${spec.kind} job`, jobServiceArgs(spec), {
    env: dockerHost(deps),
    silent: true,
    timeoutMs: CLI_TIMEOUT_MS
  })
  const serviceId = created.stdout.trim().split('\n').pop()!.trim()
  reporter.debug(`Started job ${jobName(spec)} (${serviceId}) on ${nodes.length} node(s)`)
  try {
    const runs = new Map<string, NodeRun>()
    let said = host.now()
    while (runs.size < nodes.length) {
      const tasks = await api.serviceTasks(serviceId)
      for (const node of nodes) {
        if (runs.has(node)) continue
        const end = ended(tasks.filter(t => t.NodeID === node))
        if (!end) continue
        if (!end.ok) {
          runs.set(node, { node, problem: `${end.task.Status.State}: ${end.task.Status.Err ?? end.task.Status.Message ?? 'no reason given'}` })
          continue
        }
        const log = demuxLogs(await api.taskLogs(end.task.ID, 0, LOG_LINES, LOG_TIMEOUT_MS))
        runs.set(node, { node, log })
      }
      if (runs.size === nodes.length) break
      if (host.now() >= deadline) {
        for (const node of nodes) {
          if (runs.has(node)) continue
          const last = tasks.filter(t => t.NodeID === node).pop()
          const state = last
            ? `${last.Status.State}${last.Status.Err ? `: ${last.Status.Err}` : last.Status.Message ? ` (${last.Status.Message})` : ''}`
            : 'never scheduled'
          runs.set(node, { node, problem: `did not finish within the job's deadline (${state})` })
        }
        break
      }
      if (host.now() - said >= 10_000) {
        said = host.now()
        reporter.info(`Waiting for the ${spec.kind} job on ${nodes.length - runs.size} node(s)`)
      }
      await host.sleep(POLL_MS)
    }
    return nodes.map(node => runs.get(node)!)
  } finally {
    await removeJob(serviceId, deps)
  }
}

async function removeJob(service: string, deps: JobDeps): Promise<void> {
  const removed = await deps.cli.run(['service', 'rm', service], { env: dockerHost(deps), silent: true, timeoutMs: CLI_TIMEOUT_MS })
  if (removed.code !== 0) deps.reporter.warn(`Could not remove the job service ${service}: ${removed.stderr.trim() || removed.stdout.trim()}`)
}

/** Job services of this stack a run that was killed left behind: removed before a new cleanup starts. */
export async function removeLeftoverJobs(stack: string, deps: JobDeps): Promise<void> {
  const listed = await deps.cli.run(['service', 'ls', '--quiet', '--filter', `label=${JOB_LABEL}=${stack}`], {
    env: dockerHost(deps),
    silent: true,
    timeoutMs: CLI_TIMEOUT_MS
  })
  for (const id of listed.code === 0 ? listed.stdout.split('\n').filter(l => l.trim() !== '') : []) await removeJob(id.trim(), deps)
}

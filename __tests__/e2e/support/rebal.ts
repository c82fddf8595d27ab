// The rebalance test's view of the lab: the third node (`lab.sh node-add`,
// `node-remove`) and how many running tasks of a service each node has.
import { execFile } from 'node:child_process'
import * as path from 'node:path'
import { promisify } from 'node:util'
import type { Lab } from '../harness.js'
import { docker, ROOT } from '../harness.js'

const execFileAsync = promisify(execFile)

/** `bash lab/lab.sh node-add|node-remove` (the test runs under `flock -x /work/lab.lock`, so no lock is taken here). */
export async function thirdNode(command: 'node-add' | 'node-remove'): Promise<void> {
  await execFileAsync('bash', [path.join(ROOT, 'lab/lab.sh'), command], { encoding: 'utf8', timeout: 120_000 })
}

/** Running tasks of a service per node name, e.g. { 'swl-mgr': 2, 'swl-n3': 2, 'swl-wrk': 2 }. */
export function tasksPerNode(lab: Lab, service: string): Record<string, number> {
  const lines = docker(lab, ['service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}']).trim().split('\n')
  const counts: Record<string, number> = {}
  for (const line of lines) {
    const [node, state] = line.split(' ')
    if (node && state === 'Running') counts[node] = (counts[node] ?? 0) + 1
  }
  return counts
}

/** The service's ForceUpdate counter: a rebalance that moved nothing left it as it was. */
export function forceUpdateOf(lab: Lab, service: string): number {
  return Number(docker(lab, ['service', 'inspect', service, '--format', '{{.Spec.TaskTemplate.ForceUpdate}}']).trim())
}

/** Drain the node and wait until none of the service's tasks runs there, then make it active again. */
export async function emptyNode(lab: Lab, node: string, service: string): Promise<void> {
  docker(lab, ['node', 'update', '--availability', 'drain', node])
  for (let i = 0; i < 120 && (tasksPerNode(lab, service)[node] ?? 0) > 0; i++) await new Promise(resolve => setTimeout(resolve, 500))
  docker(lab, ['node', 'update', '--availability', 'active', node])
}

/** Wait until the service runs `total` tasks (after a drain moved some). */
export async function runsAll(lab: Lab, service: string, total: number): Promise<Record<string, number>> {
  let counts = tasksPerNode(lab, service)
  for (let i = 0; i < 120 && Object.values(counts).reduce((a, b) => a + b, 0) !== total; i++) {
    await new Promise(resolve => setTimeout(resolve, 500))
    counts = tasksPerNode(lab, service)
  }
  return counts
}

// The three-manager cluster (lab/cluster.sh) for __tests__/e2e/managers-ha.test.ts:
// its facts, its commands (run without blocking the event loop, since the
// action runs meanwhile), and the swarm read through a manager that answers.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { promisify } from 'node:util'
import type { Lab } from '../harness.js'
import { ROOT } from '../harness.js'

const execFileAsync = promisify(execFile)
const CLUSTER_JSON = '/run/swc/cluster.json'

export type NodeName = 'c1' | 'c2' | 'c3' | 'c4'
export const MANAGERS: NodeName[] = ['c1', 'c2', 'c3']

export interface Cluster {
  registry: string
  baseImage: string
  sshUser: string
  sshKeyFile: string
  knownHosts: string
  managers: string[]
  engine: string
  nodes: Record<NodeName, { hostname: string; dockerHost: string }>
}

/** `bash lab/cluster.sh …`; its output. */
export async function cluster(...args: string[]): Promise<string> {
  const { stdout, stderr } = await execFileAsync('bash', [path.join(ROOT, 'lab/cluster.sh'), ...args], { encoding: 'utf8', timeout: 300_000 })
  return stdout + stderr
}

export function loadCluster(): Cluster {
  return JSON.parse(readFileSync(CLUSTER_JSON, 'utf8')) as Cluster
}

export const addressOf = (c: Cluster, node: NodeName): string => c.managers[MANAGERS.indexOf(node)]!

/** What startAction needs of a lab: the action builds nothing here, so its "runner" engine is the worker's. */
export function asLab(c: Cluster): Lab {
  return { runnerDockerHost: c.nodes.c4.dockerHost } as Lab
}

/** `docker` on a node's own socket. */
export async function dockerOn(c: Cluster, node: NodeName, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('docker', args, { env: { ...process.env, DOCKER_HOST: c.nodes[node].dockerHost }, encoding: 'utf8', timeout: 60_000 })
  return stdout
}

/** The leader, as a manager that answers sees it. */
export async function leader(): Promise<NodeName> {
  const named = (await cluster('leader')).split('\n').find(line => /^c[1-3]$/.test(line.trim()))
  if (!named) throw new Error('the cluster has no leader')
  return named.trim() as NodeName
}

/** `docker` on the first manager (after `prefer`) that answers as a manager of a swarm with a leader. */
export async function onSwarm(c: Cluster, args: string[], prefer: NodeName[] = MANAGERS): Promise<string> {
  let last: unknown
  for (let i = 0; i < 60; i++) {
    for (const node of prefer) {
      try {
        return await dockerOn(c, node, args)
      } catch (error) {
        last = error
      }
    }
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  throw last
}

/** Every node Ready and a leader elected (after engines were started again, or a node promoted). */
export async function waitHealthy(): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      const status = await cluster('status')
      if (/swarm: 4\/4 nodes Ready/.test(status) && /Leader/.test(status)) return
    } catch {
      // not yet
    }
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
  throw new Error('the cluster did not become healthy again')
}

/** The stack's release records and their status labels, and whether its deploy lock exists. */
export async function recordsAndLock(c: Cluster, stack: string): Promise<{ statuses: string[]; locked: boolean }> {
  const configs = await onSwarm(c, ['config', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '--format', '{{.Name}} {{.Labels}}'])
  const lines = configs.trim().split('\n').filter(Boolean)
  const statuses = lines
    .filter(line => line.startsWith(`${stack}_release_`))
    .sort()
    .map(line => /io\.swarm-deploy\.release\.status=([a-z-]+)/.exec(line)?.[1] ?? '')
  const locks = await onSwarm(c, ['config', 'ls', '--filter', `name=${stack}_lock`, '--format', '{{.Name}}'])
  return { statuses, locked: locks.split('\n').includes(`${stack}_lock`) }
}

/** Removes a stack and its configs, and waits for its networks to go (moby#48069). */
export async function removeStackOn(c: Cluster, stack: string): Promise<void> {
  await onSwarm(c, ['stack', 'rm', stack]).catch(() => undefined)
  for (let i = 0; i < 60; i++) {
    const left = await onSwarm(c, ['network', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '-q'])
    if (left.trim() === '') break
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  const configs = (await onSwarm(c, ['config', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '-q'])).trim().split('\n').filter(Boolean)
  const lock = (await onSwarm(c, ['config', 'ls', '--filter', `name=${stack}_lock`, '-q'])).trim().split('\n').filter(Boolean)
  if (configs.length + lock.length > 0) await onSwarm(c, ['config', 'rm', ...configs, ...lock]).catch(() => undefined)
}

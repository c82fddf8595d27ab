// Several managers in `host`, on the three-manager cluster (lab/cluster.sh,
// up in beforeAll, down in afterAll unless CLUSTER_KEEP=1): the leader's
// engine stops mid-rollout while its sshd stays up (a good update still
// converges, a bad one is still rolled back, and the release record and the
// lock are written through the manager that took over); two of three
// managers stop (the swarm loses its quorum: the run ends within its timeout,
// never converged, and says so); a manager is demoted mid-run (skipped for
// the next). The runs disturb the swarm, so they go one after another.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import type { ActionRun, RunningAction } from './harness.js'
import { expectVerdict, ROOT, runAction, startAction } from './harness.js'
import type { Cluster, NodeName } from './support/ha.js'
import { addressOf, asLab, cluster, leader, loadCluster, MANAGERS, recordsAndLock, removeStackOn, waitHealthy } from './support/ha.js'

jest.setTimeout(600_000)

const DIR = path.join(ROOT, 'examples/ha')
const run = Date.now().toString(36)
const STACKS = { good: `ha-good-${run}`, bad: `ha-bad-${run}`, demote: `ha-demote-${run}`, quorum: `ha-quorum-${run}` }
const GOOD = 'echo up; exec sleep 3600'
const BAD = 'echo failing; sleep 1; exit 3'

let c: Cluster

beforeAll(async () => {
  await cluster('up')
  c = loadCluster()
}, 400_000)

afterAll(async () => {
  if (!c) return
  for (const stack of Object.values(STACKS)) await removeStackOn(c, stack).catch(() => undefined)
  if (!process.env.CLUSTER_KEEP) await cluster('down')
}, 300_000)

/** Every manager in `host`, `first` first: the one the run connects to. */
function inputs(stack: string, first: NodeName, version: string, command: string, extra: Record<string, string> = {}): Record<string, string> {
  const order = [first, ...MANAGERS.filter(m => m !== first)]
  return {
    host: order.map(node => addressOf(c, node)).join('\n'),
    user: c.sshUser,
    'ssh-key': readFileSync(c.sshKeyFile, 'utf8'),
    'known-hosts': c.knownHosts,
    'connect-timeout': '5s',
    stack,
    'compose-file': 'web.yml',
    env: [`BASE_IMAGE=${c.registry}/${c.baseImage}`, `VERSION=${version}`, `RUN=${command}`].join('\n'),
    timeout: '90s',
    'lock-timeout': '10s',
    ...extra
  }
}

/**
 * What the run says of a manager whose engine was stopped: on 28.5 the engine is gone when the
 * run asks; a 20.10 engine first answers "This node is not a swarm manager" while it stops (each
 * of three stops on lab/cluster.sh), or is gone already.
 */
function stoppedEngine(node: NodeName): RegExp {
  const down = 'its Docker engine is not running \\(docker system dial-stdio cannot connect to it\\)'
  const stopping = 'it says it is not a swarm manager \\(demoted to worker, or its engine is stopping\\)'
  const reason = c.engine.startsWith('20.') ? `(${down}|${stopping})` : down
  return new RegExp(`Manager ${addressOf(c, node).replaceAll('.', '\\.')}:22 cannot serve: ${reason}; going on through another manager`)
}

const start = (values: Record<string, string>): RunningAction => startAction(asLab(c), values, { cwd: DIR })

/** The first version, deployed with the cluster whole. */
async function firstVersion(stack: string, first: NodeName): Promise<void> {
  expectVerdict(await runAction(asLab(c), inputs(stack, first, '1', GOOD), { cwd: DIR }), 0, 'converged')
}

/** Starts the second version through `first`, and once its wait has begun runs `disturb`. */
async function disturbed(
  stack: string,
  first: NodeName,
  command: string,
  disturb: () => Promise<unknown>,
  extra: Record<string, string> = {}
): Promise<ActionRun> {
  const running = start(inputs(stack, first, '2', command, extra))
  await running.printed('Wait for the rollout', 120_000)
  await disturb()
  return running.done
}

describe('several managers in host, on a three-manager swarm', () => {
  it("the leader's engine stops mid-rollout (sshd up): a good update converges through another manager, its record and lock through it too", async () => {
    const stack = STACKS.good
    const lead = await leader()
    await firstVersion(stack, lead)
    try {
      const result = await disturbed(stack, lead, GOOD, () => cluster('stop-engine', lead))
      expectVerdict(result, 0, 'converged')
      expect(result.log).toMatch(stoppedEngine(lead))
      expect(result.log).toMatch(/SSH reconnected through root@10\.78\.0\.\d:22/)
      expect(result.log).toContain(`Released the deploy lock of stack ${stack}`)
      expect(await recordsAndLock(c, stack)).toEqual({ statuses: ['converged', 'converged'], locked: false })
    } finally {
      await cluster('start-engine', lead)
      await waitHealthy()
    }
  })

  it("the leader's engine stops mid-rollout of a bad update: rolled back, the record says so, the lock is released", async () => {
    const stack = STACKS.bad
    const lead = await leader()
    await firstVersion(stack, lead)
    try {
      const result = await disturbed(stack, lead, BAD, () => cluster('stop-engine', lead))
      expectVerdict(result, 'non-zero', 'rolled-back')
      expect(result.log).toMatch(stoppedEngine(lead))
      expect(await recordsAndLock(c, stack)).toEqual({ statuses: ['converged', 'rolled-back'], locked: false })
    } finally {
      await cluster('start-engine', lead)
      await waitHealthy()
    }
  })

  it('a manager demoted mid-run is skipped for the next manager, as at the start', async () => {
    const stack = STACKS.demote
    const lead = await leader()
    // The manager the run connects to is not the leader: demoting it needs no election.
    const other = MANAGERS.find(m => m !== lead)!
    await firstVersion(stack, other)
    try {
      const result = await disturbed(stack, other, GOOD, () => cluster('demote', other))
      expectVerdict(result, 0, 'converged')
      expect(result.log).toContain(
        `Manager ${addressOf(c, other)}:22 cannot serve: it says it is not a swarm manager (demoted to worker, or its engine is stopping); going on through another manager`
      )
      expect(await recordsAndLock(c, stack)).toEqual({ statuses: ['converged', 'converged'], locked: false })
    } finally {
      await cluster('promote', other)
      await waitHealthy()
    }
  })

  it('two of three managers stop mid-rollout: the run ends within its timeout, never converged, and says the swarm has lost its quorum', async () => {
    const stack = STACKS.quorum
    const lead = await leader()
    const second = MANAGERS.find(m => m !== lead)!
    await firstVersion(stack, lead)
    try {
      const result = await disturbed(stack, lead, GOOD, () => Promise.all([cluster('stop-engine', lead), cluster('stop-engine', second)]), { timeout: '40s' })
      expect(result.code).not.toBe(0)
      expect(result.outputs.status).not.toBe('converged')
      expect(result.outputs.status).toBe('timed-out')
      // Its deploy lasted at most its timeout (from the deploy on), and the rest little more.
      expect(result.seconds).toBeLessThan(40 + 45)
      expect(result.log).toContain('the swarm has lost its quorum')
      expect(result.log).toMatch(/The stack may be partly updated: \S+_web had not finished updating/)
      expect(result.log).not.toContain('docker is not installed')
      expect(result.log).not.toContain('node lost leader status)\n')
    } finally {
      await Promise.all([cluster('start-engine', lead), cluster('start-engine', second)])
      await waitHealthy()
    }
  })
})

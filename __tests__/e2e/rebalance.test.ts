// Spreading onto a node that joined later (issue #22 item 4): a 6-replica
// service runs 3 and 3 on the lab's two nodes; a third node joins
// (`lab.sh node-add`); `swarm-deploy rebalance` moves tasks until each node
// runs 2, with the verdict converged; `rebalance: true` does the same after a
// deploy. Disruptive (a node joins the shared swarm): run alone, under
// `flock -x /work/lab.lock` (scripts/e2e.mjs SERIAL). The node is removed after.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as path from 'node:path'
import type { Lab } from './harness.js'
import { expectVerdict, loadLab, removeStack, ROOT, runAction, runCli, sshFlags, sshInputs } from './harness.js'
import { emptyNode, forceUpdateOf, runsAll, tasksPerNode, thirdNode } from './support/rebal.js'

jest.setTimeout(300_000)

const run = Date.now().toString(36)
const STACK = `rebal-${run}`
const SERVICE = `${STACK}_web`
const EVEN = { 'swl-mgr': 2, 'swl-n3': 2, 'swl-wrk': 2 }
let lab: Lab

function deployInputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...sshInputs(lab),
    registry: lab.registry,
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    stack: STACK,
    'compose-file': path.join(ROOT, 'examples/rebalance/six.yml'),
    env: `BASE_IMAGE=${lab.registry}/${lab.baseImage}`,
    timeout: '2m',
    ...extra
  }
}

const rebalance = (...flags: string[]) => runCli(lab, ['rebalance', '--stack', STACK, ...sshFlags(lab), '--timeout', '2m', '--json', ...flags])

beforeAll(async () => {
  lab = loadLab()
  await thirdNode('node-remove') // a run that died before its afterAll
  const deployed = await runAction(lab, deployInputs())
  expectVerdict(deployed, 0, 'converged')
  expect(tasksPerNode(lab, SERVICE)).toEqual({ 'swl-mgr': 3, 'swl-wrk': 3 })
  await thirdNode('node-add')
})

afterAll(async () => {
  await removeStack(lab, STACK)
  await thirdNode('node-remove')
})

describe('rebalance onto a node that joined', () => {
  it('--dry-run says what would move from where to where, and changes nothing', async () => {
    const forced = forceUpdateOf(lab, SERVICE)
    const result = await rebalance('--dry-run')
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout) as { status: string; services: Array<{ kind: string; service: string; moves: unknown[] }>; verdict: unknown }
    expect(json.status).toBe('converged')
    expect(json.verdict).toBeNull()
    expect(json.services).toEqual([
      expect.objectContaining({
        kind: 'uneven',
        service: SERVICE,
        moves: [
          { from: 'swl-mgr', to: 'swl-n3', tasks: 1 },
          { from: 'swl-wrk', to: 'swl-n3', tasks: 1 }
        ]
      })
    ])
    expect(result.stderr).toContain('Dry run: 1 service(s) would get a rolling --force update')
    // The Action's preview (dry-run) with rebalance says the same.
    const preview = await runAction(lab, deployInputs({ 'dry-run': 'true', rebalance: 'true' }))
    expect(preview.code).toBe(0)
    expect(preview.log).toContain(
      `${SERVICE}: uneven (swl-mgr 3, swl-n3 0, swl-wrk 3) → swl-mgr 2, swl-n3 2, swl-wrk 2: 1 from swl-mgr to swl-n3, 1 from swl-wrk to swl-n3`
    )
    expect(forceUpdateOf(lab, SERVICE)).toBe(forced)
    expect(tasksPerNode(lab, SERVICE)).toEqual({ 'swl-mgr': 3, 'swl-wrk': 3 })
  })

  it('moves tasks until each node runs 2, verdict converged; run again, it moves nothing', async () => {
    const forced = forceUpdateOf(lab, SERVICE)
    const result = await rebalance()
    expect({ code: result.code, tail: result.stderr.slice(-1500) }).toMatchObject({ code: 0 })
    const json = JSON.parse(result.stdout) as { status: string; verdict: { status: string }; after: Array<{ kind: string }> }
    expect(json.status).toBe('converged')
    expect(json.verdict.status).toBe('converged')
    expect(json.after).toEqual([expect.objectContaining({ kind: 'even' })])
    expect(forceUpdateOf(lab, SERVICE)).toBe(forced + 1)
    expect(tasksPerNode(lab, SERVICE)).toEqual(EVEN)

    const again = await rebalance()
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'converged', verdict: null, services: [expect.objectContaining({ kind: 'even' })] })
    expect(forceUpdateOf(lab, SERVICE)).toBe(forced + 1)
  })

  it('rebalance: true moves them after a converged deploy', async () => {
    // The third node emptied (drained, then active again): 3 and 3 on the others, the node idle.
    await emptyNode(lab, 'swl-n3', SERVICE)
    expect(await runsAll(lab, SERVICE, 6)).toEqual({ 'swl-mgr': 3, 'swl-wrk': 3 })
    const result = await runAction(lab, deployInputs({ rebalance: 'true' }))
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain(`Rebalance stack ${STACK}`)
    expect(result.log).toContain(`${SERVICE}: uneven (swl-mgr 3, swl-n3 0, swl-wrk 3) → swl-mgr 2, swl-n3 2, swl-wrk 2`)
    expect(tasksPerNode(lab, SERVICE)).toEqual(EVEN)
  })
})

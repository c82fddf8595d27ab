// A node joins the swarm while a deploy waits for capacity (docs/capacity.md):
// with capacity-timeout: 3m, the task no node had room for is placed on the
// new node and the deploy converges on it. The lab's third node (swl-n3,
// `lab.sh node-add`, lab/node3.sh) changes the swarm for everyone, so this
// file runs alone, under the exclusive lab lock (SERIAL in scripts/e2e.mjs),
// and removes the node again.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFile, execFileSync } from 'node:child_process'
import * as path from 'node:path'
import type { Lab } from './harness.js'
import { expectVerdict, loadLab, pushImage, removeStack, ROOT, runningNodes, servicesOf } from './harness.js'
import { deployWeb, schedulableNodes } from './support/cap.js'

jest.setTimeout(400_000)

const run = Date.now().toString(36)
const STACK = `e2e-cap-join-${run}`
const LAB_SH = path.join(ROOT, 'lab/lab.sh')
const NODE3 = 'swl-n3'

let lab: Lab
let repository: string

/** lab.sh node-add or node-remove; the caller holds the lab lock already (it is not re-entrant). */
const node3 = (what: 'node-add' | 'node-remove'): Promise<void> =>
  new Promise((resolve, reject) =>
    execFile('bash', [LAB_SH, what], { encoding: 'utf8' }, (error, _stdout, stderr) => (error ? reject(new Error(`lab.sh ${what}: ${stderr}`)) : resolve()))
  )

beforeAll(async () => {
  lab = loadLab()
  // A node left from an earlier run would give the task its room before the wait.
  await node3('node-remove')
  repository = `${lab.registry}/e2e/capacity-join`
  pushImage(lab, `${repository}:v1-${run}`, [`FROM ${lab.baseImage}`, 'ENV APP_VERSION=1'])
})

afterAll(async () => {
  await removeStack(lab, STACK)
  await node3('node-remove')
  expect(execFileSync('bash', [LAB_SH, 'status'], { encoding: 'utf8' })).not.toContain(`node ${NODE3}: up`)
})

describe('a node that joins during the wait for capacity', () => {
  it('with capacity-timeout: 3m, the waiting task runs on it and the deploy converges', async () => {
    const nodes = schedulableNodes(lab)
    expect(nodes.map(n => n.name)).not.toContain(NODE3)
    const replicas = nodes.length + 1
    const { run: result, started } = deployWeb(
      lab,
      STACK,
      { repository, tag: `v1-${run}` },
      { replicas, cpus: 1.5 },
      { 'capacity-timeout': '3m', timeout: '5m' }
    )
    // Past the 15 s every other reason gets, so only capacity-timeout keeps it waiting.
    await started.printed('waiting for capacity: 1 task needs 1.5 CPUs; the most free on any node is 0.5 CPUs', 120_000)
    await new Promise(resolve => setTimeout(resolve, 20_000))
    expect(started.output()).not.toContain('Verdict')
    await node3('node-add')
    const done = await result
    expectVerdict(done, 0, 'converged')
    expect(servicesOf(done)).toEqual([expect.objectContaining({ name: `${STACK}_web`, state: 'converged', running: replicas, desired: replicas })])
    expect(runningNodes(lab, `${STACK}_web`)).toContain(NODE3)
    expect(Number(/Verdict converged after ([\d.]+)s/.exec(done.log)?.[1])).toBeGreaterThan(20)
  })
})

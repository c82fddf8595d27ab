// The release list lives in the swarm's raft store, not in a process: it is
// all there after the manager's dockerd restarts (`lab.sh manager-restart`),
// and a rollback still works. This disturbs every run on the lab: run it
// alone.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as path from 'node:path'
import { promisify } from 'node:util'
import type { Lab } from './harness.js'
import { expectVerdict, loadLab, removeStack, ROOT, runAction, runCli, sshInputs, sshFlags } from './harness.js'

jest.setTimeout(300_000)

const run = Date.now().toString(36)
const STACK = `e2e-relr-${run}`
const RELEASES = path.join(ROOT, 'examples/releases')

let lab: Lab

beforeAll(() => {
  lab = loadLab()
})
afterAll(async () => {
  await removeStack(lab, STACK)
})

const inputs = (i: number, extra: Record<string, string> = {}): Record<string, string> => ({
  ...sshInputs(lab),
  stack: STACK,
  'compose-file': path.join(RELEASES, 'token.yml'),
  env: `BASE_IMAGE=${lab.registry}/lab/busybox:1\nTOKEN=token-${run}-${i}\nNOTE=note-${i}`,
  registry: lab.registry,
  'registry-username': lab.registryUser,
  'registry-password': lab.registryPassword,
  timeout: '2m',
  ...extra
})

async function listed(): Promise<Array<{ number: number; status: string }>> {
  const result = await runCli(lab, ['releases', '--stack', STACK, '--json', ...sshFlags(lab)])
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout) as Array<{ number: number; status: string }>
}

describe('releases across a restart of the manager', () => {
  it("survive a restart of the manager's dockerd, and a rollback still works", async () => {
    for (let i = 1; i <= 2; i++) expectVerdict(await runAction(lab, inputs(i), { cwd: RELEASES }), 0, 'converged')
    const before = await listed()
    expect(before.map(r => [r.number, r.status])).toEqual([
      [2, 'converged'],
      [1, 'converged']
    ])

    await promisify(execFile)('bash', [path.join(ROOT, 'lab/lab.sh'), 'manager-restart'], { encoding: 'utf8', timeout: 180_000 })

    expect(await listed()).toEqual(before)
    const back = await runAction(lab, inputs(3, { rollback: 'previous' }), { cwd: RELEASES })
    expectVerdict(back, 0, 'converged')
    expect(back.outputs).toMatchObject({ release: '3', 'previous-release': '2' })
  })
})

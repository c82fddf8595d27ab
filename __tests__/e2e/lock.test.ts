// The deploy lock on the lab swarm: a second deploy of a stack waits for
// the first and then runs; a live holder renews its lock, and a lock left by
// a run killed outright is taken over once it expires by the swarm's clock; `swarm-deploy unlock` clears one; a cancelled run
// lets go of it and marks its release record cancelled. The four stacks run
// side by side.
import { afterAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ActionRun } from './harness.js'
import { docker, expectVerdict, inspectService, loadLab, removeStack, runCli, runPost, sshInputs, startAction, sshFlags, releaseRecords } from './harness.js'

jest.setTimeout(300_000)

// Concurrent tests start before beforeAll hooks run, so the lab is read here.
const lab = loadLab()
const run = Date.now().toString(36)
const STACKS = { pair: `lock-pair-${run}`, killed: `lock-killed-${run}`, unlock: `lock-unlock-${run}`, cancel: `lock-cancel-${run}`, post: `lock-post-${run}` }
const SERVER = 'https://github.example'
const REPOSITORY = 'acme/lock-e2e'
const runUrl = (id: string): string => `${SERVER}/${REPOSITORY}/actions/runs/${id}`

/** One service that just runs; `stuck: true` adds a placement no node matches, so the wait lasts until the timeout. */
function app(stuck = false): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-lock-app-'))
  writeFileSync(
    path.join(dir, 'app.yml'),
    [
      'services:',
      '  app:',
      '    image: ${BASE_IMAGE}',
      '    command: ["sleep", "3600"]',
      '    init: true',
      '    environment:',
      '      ROUND: ${ROUND}',
      '    deploy:',
      '      replicas: 1',
      ...(stuck ? ['      placement:', '        constraints: ["node.labels.swarm-deploy-lab-nonexistent == true"]'] : []),
      ''
    ].join('\n')
  )
  return dir
}

function inputs(stack: string, round: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...sshInputs(lab),
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    registry: lab.registry,
    stack,
    'compose-file': 'app.yml',
    // Not the bare word: env values are masked, and a short one as a whole word, in stack names too.
    env: `BASE_IMAGE=${lab.registry}/${lab.baseImage}\nROUND=round-${round}-${run}`,
    timeout: '2m',
    ...extra
  }
}

/** As a workflow run with this run ID: the lock's holder is its URL. */
const asRun = (id: string): { GITHUB_SERVER_URL: string; GITHUB_REPOSITORY: string; GITHUB_RUN_ID: string } => ({
  GITHUB_SERVER_URL: SERVER,
  GITHUB_REPOSITORY: REPOSITORY,
  GITHUB_RUN_ID: id
})

/** The stack's deploy lock as the swarm holds it, or undefined. */
function lockOf(stack: string): { holder: string; taken: string; expires: string } | undefined {
  const ids = docker(lab, ['config', 'ls', '-q', '--filter', `name=${stack}_lock`, '--filter', `label=io.swarm-deploy.lock=${stack}`]).trim()
  if (ids === '') return undefined
  const [config] = JSON.parse(docker(lab, ['config', 'inspect', ...ids.split('\n')])) as Array<{ Spec: { Name: string; Data: string } }>
  return JSON.parse(Buffer.from(config!.Spec.Data, 'base64').toString('utf8')) as { holder: string; taken: string; expires: string }
}

/** The lock's config as the swarm shows it: its labels, and the times a manager stamped on it. */
function lockConfig(stack: string): { CreatedAt: string; UpdatedAt: string; Spec: { Labels: Record<string, string> } } | undefined {
  const ids = docker(lab, ['config', 'ls', '-q', '--filter', `name=${stack}_lock`, '--filter', `label=io.swarm-deploy.lock=${stack}`]).trim()
  if (ids === '') return undefined
  return (
    JSON.parse(docker(lab, ['config', 'inspect', ...ids.split('\n')])) as Array<{
      CreatedAt: string
      UpdatedAt: string
      Spec: { Labels: Record<string, string> }
    }>
  )[0]
}

const releaseStatuses = (stack: string): string[] => releaseRecords(lab, stack).map(r => r.status)

afterAll(async () => {
  for (const stack of Object.values(STACKS)) {
    await removeStack(lab, stack)
    // A lock is not part of the stack (docker stack rm leaves it), and a stack never deployed still has its release record.
    const left = docker(lab, ['config', 'ls', '-q', '--filter', `name=${stack}_`]).trim()
    if (left !== '') docker(lab, ['config', 'rm', ...left.split('\n')])
  }
})

describe('deploy lock', () => {
  it.concurrent('a second deploy of the same stack waits for the first, then runs; the second names the first as the holder', async () => {
    const dir = app()
    const first = startAction(lab, inputs(STACKS.pair, 'first'), { cwd: dir, env: asRun('1001') })
    // The second starts once the first holds the lock (about a second in), so the order is certain.
    await first.printed('Took the deploy lock')
    const second = startAction(lab, inputs(STACKS.pair, 'second'), { cwd: dir, env: asRun('1002') })
    const [a, b]: [ActionRun, ActionRun] = await Promise.all([first.done, second.done])
    expectVerdict(a, 0, 'converged')
    expectVerdict(b, 0, 'converged')
    expect(b.log).toMatch(new RegExp(`Waiting for the deploy lock held by ${runUrl('1001')} since \\d{4}-\\d\\d-\\d\\dT`))
    expect(b.log).toContain(`, after waiting`)
    // Progress, not a flood: one line for this holder in a wait of a few seconds.
    expect(b.log.split('\n').filter(l => l.includes('Waiting for the deploy lock')).length).toBe(1)
    expect(a.log).not.toContain('Waiting for the deploy lock')
    // The second ran after the first: it read the first's release, and its spec is the one live.
    expect(a.outputs).toMatchObject({ release: '1', 'previous-release': '' })
    expect(b.outputs).toMatchObject({ release: '2', 'previous-release': '1' })
    expect(inspectService(lab, `${STACKS.pair}_app`).Spec.TaskTemplate.ContainerSpec.Env).toContain(`ROUND=round-second-${run}`)
    expect(lockOf(STACKS.pair)).toBeUndefined()
  })

  it.concurrent('a live holder renews its lock; a lock left by a run killed outright is taken over once it expires', async () => {
    // timeout 20s: the lock lasts 20 s plus the 30 s margin, renewed every 12.5 s; the stuck service keeps the run going past that.
    const killed = startAction(lab, inputs(STACKS.killed, 'killed', { timeout: '20s' }), { cwd: app(true), env: asRun('2001') })
    await killed.printed('Took the deploy lock')
    // A renewal is a label update, which the manager stamps (UpdatedAt) and which moves the expiry label on.
    let renewed = lockConfig(STACKS.killed)
    for (const until = Date.now() + 30_000; Date.now() < until && renewed?.UpdatedAt === renewed?.CreatedAt; renewed = lockConfig(STACKS.killed)) {
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    process.kill(killed.child.pid!, 'SIGKILL')
    expect((await killed.done).code).toBeNull()
    const left = lockOf(STACKS.killed)
    const stamped = lockConfig(STACKS.killed)!.UpdatedAt
    expect(left).toMatchObject({ holder: runUrl('2001') })
    expect(Date.parse(left!.expires) - Date.parse(left!.taken)).toBe(50_000)
    expect(Date.parse(renewed!.UpdatedAt)).toBeGreaterThan(Date.parse(renewed!.CreatedAt))
    expect(Date.parse(renewed!.Spec.Labels['io.swarm-deploy.lock.expires']!)).toBeGreaterThan(Date.parse(left!.expires))

    const next = startAction(lab, inputs(STACKS.killed, 'next', { 'lock-timeout': '2m' }), { cwd: app(), env: asRun('2002') })
    const result = await next.done
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain(`Waiting for the deploy lock held by ${runUrl('2001')} since ${left!.taken}`)
    // Judged by the swarm's clock: its last renewal, plus the TTL and the margin.
    const last = new Date(Date.parse(stamped)).toISOString()
    expect(result.log).toContain(`The deploy lock held by ${runUrl('2001')} since ${left!.taken} was last renewed at ${last}`)
    expect(result.log).toContain("by the swarm's clock (its TTL of 50s, and 30s more for clocks that differ, have passed): taking it over")
    expect(lockOf(STACKS.killed)).toBeUndefined()
  })

  it.concurrent('swarm-deploy unlock removes a stuck lock and says whose it was, and says so when there is none', async () => {
    const dir = app()
    // Outside a workflow run the holder is user@host.
    const killed = startAction(lab, inputs(STACKS.unlock, 'killed'), { cwd: dir, env: { USER: 'ana' } })
    await killed.printed('Took the deploy lock')
    process.kill(killed.child.pid!, 'SIGKILL')
    await killed.done
    const left = lockOf(STACKS.unlock)
    expect(left?.holder).toBe(`ana@${os.hostname()}`)

    const unlocked = await runCli(lab, ['unlock', '--stack', STACKS.unlock, ...sshFlags(lab)])
    expect(unlocked.code).toBe(0)
    expect(unlocked.stdout).toBe(
      `Removed the deploy lock of stack ${STACKS.unlock} (${STACKS.unlock}_lock), held by ana@${os.hostname()} since ${left!.taken} until ${left!.expires}.\n`
    )
    expect(lockOf(STACKS.unlock)).toBeUndefined()
    const again = await runCli(lab, ['unlock', '--stack', STACKS.unlock, ...sshFlags(lab)])
    expect(again.code).toBe(0)
    expect(again.stdout).toBe(`Stack ${STACKS.unlock} has no deploy lock.\n`)
  })

  it.concurrent('a run cancelled (SIGTERM) during the wait lets go of the lock and marks its release cancelled', async () => {
    const pending = startAction(lab, inputs(STACKS.cancel, 'cancel'), { cwd: app(true), env: asRun('4001') })
    await pending.printed('::group::Wait for the rollout')
    expect(lockOf(STACKS.cancel)?.holder).toBe(runUrl('4001'))
    expect(releaseStatuses(STACKS.cancel)).toEqual(['deploying'])
    process.kill(pending.child.pid!, 'SIGTERM')
    const result = await pending.done
    expect(result.code).toBe(1)
    expect(result.outputs.status).toBe('cancelled')
    expect(result.log).toContain('Release #1: cancelled')
    expect(result.log).toContain(`Released the deploy lock of stack ${STACKS.cancel}`)
    expect(releaseStatuses(STACKS.cancel)).toEqual(['cancelled'])
    expect(lockOf(STACKS.cancel)).toBeUndefined()
  })

  it.concurrent('after a main step killed outright, the post step marks its release cancelled and lets go of the lock', async () => {
    const pending = startAction(lab, inputs(STACKS.post, 'post'), { cwd: app(true), env: asRun('5001') })
    await pending.printed('::group::Wait for the rollout')
    process.kill(pending.child.pid!, 'SIGKILL')
    const killed = await pending.done
    expect(killed.code).toBeNull()
    expect(lockOf(STACKS.post)?.holder).toBe(runUrl('5001'))
    expect(releaseStatuses(STACKS.post)).toEqual(['deploying'])
    expect(JSON.parse(killed.state.swarmLeftovers!)).toEqual([
      { kind: 'lock', stack: STACKS.post, id: expect.any(String) },
      { kind: 'release', stack: STACKS.post, id: expect.any(String) }
    ])

    const post = await runPost(killed)
    expect(post.code).toBe(0)
    expect(post.log).toContain(`Release #1 of stack ${STACKS.post}: cancelled (the main step ended without doing it)`)
    expect(post.log).toContain(`Released the deploy lock of stack ${STACKS.post} (the main step ended without doing it)`)
    expect(releaseStatuses(STACKS.post)).toEqual(['cancelled'])
    expect(lockOf(STACKS.post)).toBeUndefined()
  })
})

// Convergence beyond the plain replicated service, on the lab swarm: global
// services, jobs, a service scaled to zero, a node lost mid-rollout, Swarm's
// default failure_action (pause), and the SSH connection dropped while the
// action waits. Compose files: examples/converge (the hello app is built from
// ../hello).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as path from 'node:path'
import { promisify } from 'node:util'
import type { ActionRun, Lab } from './harness.js'
import { docker, expectVerdict, inspectService, loadLab, removeStack, ROOT, runAction, runningNodes, servicesOf, sshInputs } from './harness.js'

jest.setTimeout(300_000)

const CONVERGE = path.join(ROOT, 'examples/converge')
const run = Date.now().toString(36)
const stackName = (what: string): string => `e2e-conv-${what}-${run}`
const STACKS = {
  global: stackName('global'),
  job: stackName('job'),
  jobFail: stackName('jobfail'),
  zero: stackName('zero'),
  node: stackName('node'),
  pause: stackName('pause'),
  ssh: stackName('ssh'),
  crash: stackName('crash'),
  warn: stackName('warn'),
  monitor: stackName('monitor'),
  startFirst: stackName('startfirst'),
  pull: stackName('pull')
}

let lab: Lab
let registryInputs: Record<string, string>
let workerStopped = false

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const execFileAsync = promisify(execFile)

/** `bash lab/lab.sh <command>` without blocking the event loop (the action runs meanwhile). */
async function labCommand(command: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync('bash', [path.join(ROOT, 'lab/lab.sh'), command], { encoding: 'utf8', timeout: 120_000 })
  return stdout + stderr
}

/** Current states of a service's tasks, e.g. ['Complete 3 seconds ago']. */
function taskStates(service: string): string[] {
  return docker(lab, ['service', 'ps', service, '--no-trunc', '--format', '{{.CurrentState}}']).trim().split('\n').filter(Boolean)
}

/** Inputs for a stack of the lab's busybox image (nothing built). */
function baseInputs(stack: string, composeFile: string, extra: Record<string, string> = {}): Record<string, string> {
  const { env, ...rest } = extra
  return {
    ...sshInputs(lab),
    ...registryInputs,
    registry: lab.registry,
    stack,
    'compose-file': composeFile,
    env: [`BASE_IMAGE=${lab.registry}/${lab.baseImage}`, ...(env ? [env] : [])].join('\n'),
    timeout: '60s',
    ...rest
  }
}

/** Inputs that build the hello app (../hello) and deploy it with one of our compose files. */
function helloInputs(stack: string, composeFile: string, tag: string, buildArgs: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...sshInputs(lab),
    ...registryInputs,
    stack,
    'compose-file': composeFile,
    image: `${lab.registry}/e2e/conv-hello`,
    tags: `${tag}-${run}`,
    context: '../hello',
    'build-args': buildArgs,
    timeout: '3m',
    ...extra
  }
}

function runIn(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction(lab, inputs, { cwd: CONVERGE })
}

beforeAll(() => {
  lab = loadLab()
  registryInputs = { 'registry-username': lab.registryUser, 'registry-password': lab.registryPassword }
})

afterAll(async () => {
  // Never leave the shared lab with its worker down.
  if (workerStopped) await labCommand('worker-start')
  for (const stack of Object.values(STACKS)) await removeStack(lab, stack)
})

describe('service modes', () => {
  it('converges a global service with one running task on each node, or on each node its constraints admit', async () => {
    const stack = STACKS.global
    const result = await runIn(baseInputs(stack, 'global.yml'))
    expectVerdict(result, 0, 'converged')
    const services = servicesOf(result)
    expect(services).toEqual([
      expect.objectContaining({
        name: `${stack}_agent`,
        // stack deploy --with-registry-auth pins the tag to its digest. The
        // image comes from BASE_IMAGE, an env value: redacted like every one.
        image: expect.stringMatching(/^\*\*\*@sha256:[0-9a-f]{64}$/),
        mode: 'global',
        running: 2,
        desired: 2,
        state: 'converged',
        change: 'created',
        nodes: [lab.managerNode, lab.workerNode].sort()
      }),
      expect.objectContaining({
        name: `${stack}_worker-agent`,
        mode: 'global',
        running: 1,
        desired: 1,
        state: 'converged',
        nodes: [lab.workerNode]
      })
    ])
    expect(inspectService(lab, `${stack}_agent`).Spec.Mode.Global).toBeDefined()
    expect(runningNodes(lab, `${stack}_agent`)).toEqual([lab.managerNode, lab.workerNode].sort())
    expect(runningNodes(lab, `${stack}_worker-agent`)).toEqual([lab.workerNode])
  })

  it('returns as soon as a replicated-job completes', async () => {
    const stack = STACKS.job
    const result = await runIn(baseInputs(stack, 'job.yml'))
    expectVerdict(result, 0, 'converged')
    const services = servicesOf(result)
    expect(services).toEqual([
      expect.objectContaining({ name: `${stack}_job`, mode: 'replicated-job', running: 1, desired: 1, state: 'converged', change: 'created' })
    ])
    expect(services[0]!.nodes).toHaveLength(1)
    // Well before the 60 s deadline: the job takes ~2 s, plus connect and deploy.
    expect(result.seconds).toBeLessThan(40)
    expect(inspectService(lab, `${stack}_job`).Spec.Mode.ReplicatedJob).toBeDefined()
    expect(taskStates(`${stack}_job`)).toEqual([expect.stringMatching(/^Complete /)])
  })

  // A job whose run fails is a failed deploy, named in the message. Its exit
  // code comes from the env input (JOB_EXIT=1): a value under 4 characters is
  // neither masked nor redacted (hardening item 2), so Swarm's error reads as
  // it is, and one warning names the variable.
  it('fails a replicated-job that exits 1, naming the job', async () => {
    const stack = STACKS.jobFail
    const result = await runIn(baseInputs(stack, 'job.yml', { env: 'JOB_EXIT=1' }))
    expectVerdict(result, 'non-zero', 'failed')
    expect(result.log).toContain(`::error::Stack ${stack} failed: ${stack}_job (the job failed on `)
    expect(result.log).toMatch(/_job \(the job failed on \S+: task: non-zero exit \(1\)\)/)
    expect(result.log).toContain('::warning::env JOB_EXIT: the value is shorter than 4 characters')
    expect(result.summary).toContain('task: non-zero exit (1)')
    // Not at the deadline: the failure is known once the task has failed.
    expect(result.seconds).toBeLessThan(40)
    const services = servicesOf(result)
    expect(services).toEqual([expect.objectContaining({ name: `${stack}_job`, mode: 'replicated-job', running: 0, desired: 1, state: 'failed' })])
    expect(taskStates(`${stack}_job`)).toEqual([expect.stringMatching(/^Failed /)])
  })

  it('converges a service scaled to 0 replicas at once', async () => {
    const stack = STACKS.zero
    const result = await runIn(baseInputs(stack, 'zero.yml'))
    expectVerdict(result, 0, 'converged')
    expect(servicesOf(result)).toEqual([
      expect.objectContaining({ name: `${stack}_idle`, mode: 'replicated', running: 0, desired: 0, state: 'converged', nodes: [] })
    ])
    // Connect and deploy take a few seconds; there is nothing to wait for.
    expect(result.seconds).toBeLessThan(15)
    expect(inspectService(lab, `${stack}_idle`).Spec.Mode.Replicated?.Replicas).toBe(0)
    expect(taskStates(`${stack}_idle`)).toEqual([])
  })
})

describe("settings that make Swarm's verdict unreliable", () => {
  it('warns when the update monitor is shorter than the healthcheck needs to fail', async () => {
    const result = await runIn(helloInputs(STACKS.warn, 'short-monitor.yml', 'warn1', 'VERSION=1'))
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain(
      `::warning::${STACKS.warn}_web: update monitor (1s) is shorter than the healthcheck needs to declare a task unhealthy (start_period + interval × retries = 4s)`
    )
  })

  it('warns on order start-first without a healthcheck', async () => {
    const stack = STACKS.startFirst
    const result = await runIn(baseInputs(stack, 'start-first.yml'))
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain(
      `::warning::${stack}_web: update order start-first without a healthcheck: Swarm counts a new task as ready the moment it starts`
    )
  })

  // A new task counts only once it has stayed up for the monitor period.
  it('warns when the monitor period cannot pass before the timeout, and does not call the running task converged', async () => {
    const stack = STACKS.monitor
    const result = await runIn(baseInputs(stack, 'long-monitor.yml', { timeout: '12s' }))
    expectVerdict(result, 'non-zero', 'timed-out')
    expect(result.log).toMatch(
      new RegExp(`::warning::${stack}_app: update monitor \\(20s\\) is not shorter than the time left before the timeout \\([\\d.]+s\\)`)
    )
    expect(result.log).toMatch(
      /::error::Stack .* timed out with 1 service\(s\) not converged: .*_app \(started: 1\/1 running; checking they stay up; 1 task running for less than the 20 s monitor period\)/
    )
    expect(servicesOf(result)).toEqual([expect.objectContaining({ name: `${stack}_app`, running: 1, desired: 1, state: 'pending' })])
  })
})

describe('rollouts under trouble', () => {
  it('fails fast when the image cannot be pulled', async () => {
    const stack = STACKS.pull
    const result = await runIn(baseInputs(stack, 'missing-image.yml', { timeout: '3m' }))
    expectVerdict(result, 'non-zero', 'failed')
    expect(result.log).toMatch(new RegExp(`::error::Stack ${stack} failed: ${stack}_web \\(the image cannot be pulled on \\S+: `))
    expect(result.seconds).toBeLessThan(40)
    expect(servicesOf(result)).toEqual([expect.objectContaining({ name: `${stack}_web`, running: 0, desired: 2, state: 'failed' })])
  })

  it('fails a brand-new service that keeps crashing, saying there is nothing to roll back to', async () => {
    const stack = STACKS.crash
    const result = await runIn(baseInputs(stack, 'crash.yml', { timeout: '3m' }))
    expectVerdict(result, 'non-zero', 'failed')
    expect(result.log).toMatch(
      /::error::Stack .* failed: .*_crash \(the new service fails to start and has no previous version to roll back to: task: non-zero exit \(3\)\)/
    )
    // Swarm would restart it forever; the action stops long before its 3 m deadline.
    expect(result.seconds).toBeLessThan(40)
    // The failed containers' output is shown.
    expect(result.log).toMatch(/\| starting/)
  })

  // A node lost while an update runs: once Swarm has marked it Down its tasks
  // are replaced on the manager, and they must not block the verdict. The
  // worker stops after the first batch of the new spec runs; Swarm needs
  // ~15 s to mark it Down, which the 20 s batch delay leaves it. (Stopped
  // while a new task is still starting on it, Swarm's own updater waits for
  // that task until the node returns: a real stall, reported as such.)
  it('converges when the worker goes down mid-rollout: tasks on the Down node do not block', async () => {
    const stack = STACKS.node
    const first = await runIn(helloInputs(stack, 'web-slow.yml', 'node1', 'VERSION=1'))
    expectVerdict(first, 0, 'converged')
    expect(runningNodes(lab, `${stack}_web`)).toEqual([lab.managerNode, lab.workerNode].sort())

    let result: ActionRun
    try {
      const pending = runIn(helloInputs(stack, 'web-slow.yml', 'node2', 'VERSION=2'))
      expect(await firstBatchRunning(pending, `${stack}_web`, first.outputs.image!, 60_000)).toBe(true)
      workerStopped = true
      const stopping = labCommand('worker-stop')
      result = await pending
      await stopping
    } finally {
      await labCommand('worker-start')
      workerStopped = false
    }
    expectVerdict(result, 0, 'converged')
    expect(result.seconds).toBeLessThan(180)
    const [web] = servicesOf(result)
    expect(web).toEqual(
      expect.objectContaining({ name: `${stack}_web`, image: result.outputs.image, running: 4, desired: 4, state: 'converged', nodes: [lab.managerNode] })
    )
    expect(inspectService(lab, `${stack}_web`).Spec.TaskTemplate.ContainerSpec.Image).toBe(result.outputs.image)
  })

  describe('failure_action: pause with a failing healthcheck', () => {
    let goodImage = ''

    it('deploys the good version', async () => {
      const result = await runIn(helloInputs(STACKS.pause, 'web-pause.yml', 'pause1', 'VERSION=1'))
      expectVerdict(result, 0, 'converged')
      goodImage = result.outputs.image!
      expect(goodImage).toMatch(/@sha256:/)
    })

    // The action asks Swarm to roll the paused update back.
    it('asks Swarm to roll back the paused update and reports rolled-back', async () => {
      const stack = STACKS.pause
      const result = await runIn(helloInputs(stack, 'web-pause.yml', 'pause2', 'VERSION=2\nHEALTH_PATH=missing'))
      const service = inspectService(lab, `${stack}_web`)
      expectVerdict(result, 'non-zero', 'rolled-back')
      expect(service.UpdateStatus?.State).toBe('rollback_completed')
      expect(result.log).toContain('asking it to roll back')
      expect(result.log).toContain('unhealthy container')
      expect(service.Spec.TaskTemplate.ContainerSpec.Image).toBe(goodImage)
      expect(servicesOf(result)).toEqual([expect.objectContaining({ name: `${stack}_web`, state: 'rolled-back', updateState: 'rollback_completed' })])
    })

    // NEW input: rollback-on-failure: 'false' leaves the update paused.
    it("leaves the update paused with rollback-on-failure: 'false' and reports failed", async () => {
      const stack = STACKS.pause
      const result = await runIn(helloInputs(stack, 'web-pause.yml', 'pause3', 'VERSION=3\nHEALTH_PATH=missing', { 'rollback-on-failure': 'false' }))
      expectVerdict(result, 'non-zero', 'failed')
      expect(result.log).not.toContain('asking it to roll back')
      const service = inspectService(lab, `${stack}_web`)
      expect(service.UpdateStatus?.State).toBe('paused')
      // Still some time later: nothing rolled it back behind our back.
      await sleep(3000)
      expect(inspectService(lab, `${stack}_web`).UpdateStatus?.State).toBe('paused')
      expect(servicesOf(result)).toEqual([expect.objectContaining({ name: `${stack}_web`, state: 'failed', updateState: 'paused' })])
    })
  })

  // A dropped SSH connection is re-established and the wait goes on.
  it('reconnects when the SSH connection to the manager drops during the wait', async () => {
    const stack = STACKS.ssh
    const first = await runIn(helloInputs(stack, 'web.yml', 'ssh1', 'VERSION=1'))
    expectVerdict(first, 0, 'converged')

    const pending = runIn(helloInputs(stack, 'web.yml', 'ssh2', 'VERSION=2'))
    // Drop the connection ~2 s into the wait for the ~10-15 s update.
    const waiting = await deployed(pending, `${stack}_web`, first.outputs.image!, 60_000)
    await sleep(2000)
    const dropped = await labCommand('sshd-drop')
    const result = await pending
    expect(waiting).toBe(true)
    expect(dropped).toMatch(/dropped [1-9]\d* sshd session/)
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain('reconnected')
    expect(result.log).toMatch(/Verdict converged after [\d.]+s: \d+ polls, \d+ API calls, 2 SSH connection\(s\)/)
    const service = inspectService(lab, `${stack}_web`)
    expect(service.UpdateStatus?.State).toBe('completed')
    expect(service.Spec.TaskTemplate.ContainerSpec.Image).toBe(result.outputs.image)
  })
})

/**
 * Resolve true once `check` holds, polling the manager while the action runs
 * (runAction hands the log back only at the end); false if the action ends
 * first or `timeoutMs` passes.
 */
async function whileRunning(pending: Promise<ActionRun>, timeoutMs: number, check: () => boolean): Promise<boolean> {
  let finished = false
  void pending.then(() => (finished = true))
  for (const started = Date.now(); Date.now() - started < timeoutMs && !finished; await sleep(200)) {
    if (check()) return true
  }
  return false
}

const imageOf = (service: string): string => inspectService(lab, service).Spec.TaskTemplate.ContainerSpec.Image

/** The action's `docker stack deploy` has run: the spec no longer has `previousImage`, and the action now waits. */
function deployed(pending: Promise<ActionRun>, service: string, previousImage: string, timeoutMs: number): Promise<boolean> {
  return whileRunning(pending, timeoutMs, () => imageOf(service) !== previousImage)
}

/** The service runs a new image and two of its tasks run it. */
function firstBatchRunning(pending: Promise<ActionRun>, service: string, previousImage: string, timeoutMs: number): Promise<boolean> {
  return whileRunning(pending, timeoutMs, () => {
    const image = imageOf(service)
    if (image === previousImage) return false
    const running = docker(lab, ['service', 'ps', service, '--no-trunc', '--filter', 'desired-state=running', '--format', '{{.Image}} {{.CurrentState}}'])
      .split('\n')
      .filter(line => line.startsWith(`${image} Running`))
    return running.length >= 2
  })
}

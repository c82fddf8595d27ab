// Deploys that work with autoscalers (docs/capacity.md), on the lab's nodes
// as they are (each offers the host's CPUs): a service whose tasks reserve
// 1.5 CPUs with one replica more than there are nodes, so one task waits for
// capacity; with the label io.swarm-deploy.capacity: best-effort it
// converges; keep-replicas keeps a count set by `docker service scale`; and
// a scale by someone else during a rollout is judged, not superseded.
// The stacks run one after the other: the CPU one reserves, the next needs.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import type { ActionRun, Lab } from './harness.js'
import { docker, expectVerdict, inspectService, loadLab, pushImage, removeStack, servicesOf } from './harness.js'
import { deployWeb, schedulableNodes } from './support/cap.js'
import { rolloutUnderWay } from './support/rollout.js'

jest.setTimeout(300_000)

const run = Date.now().toString(36)
const STACKS = { fail: `e2e-cap-fail-${run}`, best: `e2e-cap-best-${run}`, keep: `e2e-cap-keep-${run}`, scale: `e2e-cap-scale-${run}` }

let lab: Lab
let repository: string
let nodes: Array<{ name: string; cpus: number }>
const image = (tag: string): { repository: string; tag: string } => ({ repository, tag: `${tag}-${run}` })

beforeAll(() => {
  lab = loadLab()
  repository = `${lab.registry}/e2e/capacity`
  for (const version of ['v1', 'v2']) pushImage(lab, `${repository}:${version}-${run}`, [`FROM ${lab.baseImage}`, `ENV APP_VERSION=${version}`])
  nodes = schedulableNodes(lab)
})

afterAll(async () => {
  for (const stack of Object.values(STACKS)) await removeStack(lab, stack)
})

describe('tasks that wait for capacity', () => {
  it('each lab node offers 2 CPUs, so one 1.5-CPU task fits on each', () => {
    expect(nodes.length).toBeGreaterThanOrEqual(2)
    for (const node of nodes) expect(node.cpus).toBe(2)
  })

  it('without a label: failed once capacity-timeout has passed, naming insufficient resources and what is missing', async () => {
    const stack = STACKS.fail
    try {
      const result = await deployWeb(lab, stack, image('v1'), { replicas: nodes.length + 1, cpus: 1.5 }, { 'capacity-timeout': '20s' }).run
      expectVerdict(result, 'non-zero', 'failed')
      const [web] = servicesOf(result)
      expect(web).toMatchObject({ name: `${stack}_web`, state: 'failed', running: nodes.length, desired: nodes.length + 1 })
      expect(web!.message).toBe(
        `no node can run it: no suitable node (insufficient resources on ${nodes.length} nodes): 1 task needs 1.5 CPUs; the most free on any node is 0.5 CPUs`
      )
      // Progress while waiting said what is missing, and the wait was capacity-timeout, not the 15 s of other reasons.
      expect(result.log).toContain('waiting for capacity: 1 task needs 1.5 CPUs; the most free on any node is 0.5 CPUs')
      // It waited capacity-timeout (20 s), not the 15 s other reasons get.
      expect(Number(/Verdict failed after ([\d.]+)s/.exec(result.log)?.[1])).toBeGreaterThanOrEqual(20)
    } finally {
      await removeStack(lab, stack)
    }
  })

  it('with io.swarm-deploy.capacity: best-effort: converged, with the tasks that fit running and one waiting', async () => {
    const stack = STACKS.best
    try {
      const result = await deployWeb(lab, stack, image('v1'), { replicas: nodes.length + 1, cpus: 1.5, labels: { 'io.swarm-deploy.capacity': 'best-effort' } })
        .run
      expectVerdict(result, 0, 'converged')
      const n = nodes.length
      const [web] = servicesOf(result)
      expect(web).toMatchObject({ state: 'converged', running: n, desired: n + 1 })
      expect(web!.message).toBe(`${n}/${n + 1} running, 1 waiting for capacity (1 task needs 1.5 CPUs; the most free on any node is 0.5 CPUs)`)
      expect(result.log).toContain(
        `Stack ${stack} converged: 1 service(s) running the deployed spec (${stack}_web: ${n}/${n + 1} running, 1 waiting for capacity).`
      )
      expect(result.summary).toContain(`${n}/${n + 1} running, 1 waiting for capacity`)
    } finally {
      await removeStack(lab, stack)
    }
  })
})

describe('replica counts owned by someone else', () => {
  it('keep-replicas: true after docker service scale to 5 keeps 5', async () => {
    const stack = STACKS.keep
    const first = await deployWeb(lab, stack, image('v1'), { replicas: 2 }).run
    expectVerdict(first, 0, 'converged')
    docker(lab, ['service', 'scale', '--detach', `${stack}_web=5`])
    // The preview says what the deploy would do: keep 5, where without keep-replicas it would go back to 2.
    const replicasChange = (result: ActionRun): string[] =>
      (JSON.parse(result.outputs.plan ?? '{"services":[]}') as { services: Array<{ changes: string[] }> }).services
        .flatMap(s => s.changes)
        .filter(c => /replicas/.test(c))
    const preview = await deployWeb(lab, stack, image('v1'), { replicas: 2 }, { 'keep-replicas': 'true', 'dry-run': 'true' }).run
    expect(preview.code).toBe(0)
    expect(preview.log).toContain('web keeps its live replica count, 5 (the compose file says 2)')
    expect(replicasChange(preview)).toEqual([])
    const reset = await deployWeb(lab, stack, image('v1'), { replicas: 2 }, { 'dry-run': 'true' }).run
    expect(replicasChange(reset)).not.toEqual([])
    const kept = await deployWeb(lab, stack, image('v2'), { replicas: 2 }, { 'keep-replicas': 'true' }).run
    expectVerdict(kept, 0, 'converged')
    expect(kept.log).toContain('web keeps its live replica count, 5 (the compose file says 2)')
    expect(servicesOf(kept)).toEqual([expect.objectContaining({ name: `${stack}_web`, running: 5, desired: 5, change: 'updated' })])
    expect(inspectService(lab, `${stack}_web`).Spec.Mode.Replicated?.Replicas).toBe(5)
    // Without it, the file's count again.
    const again = await deployWeb(lab, stack, image('v2'), { replicas: 2 }).run
    expectVerdict(again, 0, 'converged')
    expect(inspectService(lab, `${stack}_web`).Spec.Mode.Replicated?.Replicas).toBe(2)
    await removeStack(lab, stack)
  })

  it('docker service scale by someone else during a rollout: converged on the live count, and the log names the change', async () => {
    const stack = STACKS.scale
    const first = await deployWeb(lab, stack, image('v1'), { replicas: 3, slow: true }).run
    expectVerdict(first, 0, 'converged')
    const pending = deployWeb(lab, stack, image('v2'), { replicas: 3, slow: true }).run
    await rolloutUnderWay(lab, `${stack}_web`, pending, spec => spec.includes(`:${image('v2').tag}@`))
    docker(lab, ['service', 'scale', '--detach', `${stack}_web=5`])
    const result = await pending
    expectVerdict(result, 0, 'converged')
    const [web] = servicesOf(result)
    expect(web).toMatchObject({ state: 'converged', running: 5, desired: 5, change: 'updated' })
    expect(web!.message).toContain('replicas 3 → 5, not by this deploy')
    expect(result.log).toContain('replicas 3 → 5, not by this deploy')
    expect(result.log).not.toMatch(/superseded/)
    await removeStack(lab, stack)
  })
})

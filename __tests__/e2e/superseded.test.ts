// Someone else changes or removes a service while the action waits for its
// rollout: a person fixing something by hand, another pipeline, an
// auto-updater. What then runs is not this deploy, so the verdict is
// `superseded`, never `converged`. The three stacks run side by side.
import { afterAll, describe, expect, it, jest } from '@jest/globals'
import * as path from 'node:path'
import type { ActionRun } from './harness.js'
import { rolloutUnderWay } from './support/rollout.js'
import { dockerAsync, expectVerdict, inspectService, loadLab, removeStack, ROOT, runAction, servicesOf, sshInputs } from './harness.js'

jest.setTimeout(300_000)

// Concurrent tests start before beforeAll hooks run, so the lab is read here.
const lab = loadLab()
const CONVERGE = path.join(ROOT, 'examples/converge')
const run = Date.now().toString(36)
const STACKS = { changed: `e2e-sup-changed-${run}`, removed: `e2e-sup-removed-${run}`, control: `e2e-sup-control-${run}` }

/** Build the hello app at `version` and deploy it to `stack`: 3 replicas, one at a time, 6 s apart. */
function deploy(stack: string, version: string): Promise<ActionRun> {
  return runAction(
    lab,
    {
      ...sshInputs(lab),
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      stack,
      'compose-file': 'steps.yml',
      image: `${lab.registry}/e2e/superseded`,
      tags: `${version}-${stack}`,
      context: '../hello',
      'build-args': `VERSION=${version}`,
      timeout: '3m'
    },
    { cwd: CONVERGE }
  )
}

/** Deploy version 1, then version 2 while `meddle` runs once the rollout is under way. */
async function supersede(
  stack: string,
  meddle: (service: string, first: string) => Promise<void>
): Promise<{ result: ActionRun; first: string; second: string }> {
  const initial = await deploy(stack, 'v1')
  expectVerdict(initial, 0, 'converged')
  const first = initial.outputs.image!
  const pending = deploy(stack, 'v2')
  const second = await rolloutUnderWay(lab, `${stack}_web`, pending, image => image !== first)
  await meddle(`${stack}_web`, first)
  return { result: await pending, first, second }
}

afterAll(async () => {
  for (const stack of Object.values(STACKS)) await removeStack(lab, stack)
})

describe('a rollout someone else supersedes', () => {
  it.concurrent('another update mid-rollout: superseded, naming the service and the image it changed to', async () => {
    const stack = STACKS.changed
    const { result, first, second } = await supersede(stack, (service, image) =>
      dockerAsync(lab, ['service', 'update', '--detach', '--image', image, '--env-add', 'FOREIGN=1', service]).then(() => undefined)
    )
    expectVerdict(result, 'non-zero', 'superseded')
    expect(second).toBe(result.outputs.image)
    const [web] = servicesOf(result)
    expect(web).toMatchObject({ name: `${stack}_web`, state: 'superseded', change: 'updated' })
    expect(web!.message).toContain(`image ${second} → ${first}`)
    expect(web!.message).toContain('environment FOREIGN added')
    expect(result.log).toContain(
      `Stack ${stack} was superseded: ${stack}_web (changed by someone else during the rollout (image ${second} → ${first}; environment FOREIGN added)`
    )
    expect(result.log).not.toMatch(/converged/)
    expect(result.summary).toContain('superseded')
    // Nothing was rolled back: the other change goes on.
    expect(inspectService(lab, `${stack}_web`).Spec.TaskTemplate.ContainerSpec.Image).toBe(first)
  })

  it.concurrent('the service removed mid-rollout: superseded, naming the removed service', async () => {
    const stack = STACKS.removed
    const { result } = await supersede(stack, service => dockerAsync(lab, ['service', 'rm', service]).then(() => undefined))
    expectVerdict(result, 'non-zero', 'superseded')
    expect(servicesOf(result)).toEqual([
      expect.objectContaining({ name: `${stack}_web`, state: 'superseded', message: 'removed by someone else during the rollout', running: 0 })
    ])
    expect(result.log).toContain(`Stack ${stack} was superseded: ${stack}_web (removed by someone else during the rollout)`)
  })

  it.concurrent('the same timing with no other change: converged', async () => {
    const stack = STACKS.control
    const { result, second } = await supersede(stack, async () => undefined)
    expectVerdict(result, 0, 'converged')
    expect(servicesOf(result)).toEqual([expect.objectContaining({ name: `${stack}_web`, state: 'converged', image: second, running: 3, desired: 3 })])
  })
})

// Waiting for a deploy's rollout to be under way, so a test can change the
// service midway (superseded.test.ts, capacity.test.ts): the spec names the
// new image and one task of it runs.
import type { Lab } from '../harness.js'
import { dockerAsync } from '../harness.js'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Resolves with the spec's image once `isNew` accepts it and a task running
 * it is Running; throws when `pending` (the action) ends first, or after 90 s.
 */
export async function rolloutUnderWay(lab: Lab, service: string, pending: Promise<unknown>, isNew: (image: string) => boolean): Promise<string> {
  let finished = false
  void pending.finally(() => (finished = true)).catch(() => undefined)
  for (const started = Date.now(); Date.now() - started < 90_000 && !finished; await sleep(200)) {
    const image = (await dockerAsync(lab, ['service', 'inspect', service, '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}']).catch(() => '')).trim()
    if (image === '' || !isNew(image)) continue
    const format = ['--filter', 'desired-state=running', '--format', '{{.Image}} {{.CurrentState}}']
    const tasks = await dockerAsync(lab, ['service', 'ps', service, '--no-trunc', ...format])
    if (tasks.split('\n').some(line => line.startsWith(`${image} Running`))) return image
  }
  throw new Error(`the rollout of ${service} was not seen under way (action finished: ${finished})`)
}

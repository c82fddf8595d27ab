// What the capacity e2e files share (capacity.test.ts, capacity-join.test.ts):
// a workspace with a compose file written for the test, an image pushed
// once, and the lab's schedulable nodes and their CPUs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ActionRun, Lab, RunningAction } from '../harness.js'
import { docker, sshInputs, startAction } from '../harness.js'

export interface WebService {
  replicas: number
  /** CPUs each task reserves. */
  cpus?: number
  labels?: Record<string, string>
  /** One task at a time, 6 s apart: a rollout a test can change midway. */
  slow?: boolean
}

/** A compose file of one service, `web`, that sleeps: the lab's base image has no server to run. */
export function composeText(web: WebService): string {
  const lines = [
    'version: "3.8"',
    'services:',
    '  web:',
    '    image: ${IMAGE}',
    '    init: true',
    '    command: ["sleep", "86400"]',
    '    deploy:',
    `      replicas: ${web.replicas}`,
    '      restart_policy:',
    '        condition: any',
    '        delay: 1s',
    '      update_config:',
    `        parallelism: 1`,
    `        delay: ${web.slow ? '6s' : '0s'}`,
    '        order: stop-first',
    '        monitor: 2s'
  ]
  if (web.cpus) lines.push('      resources:', '        reservations:', `          cpus: "${web.cpus}"`)
  if (web.labels) lines.push('      labels:', ...Object.entries(web.labels).map(([k, v]) => `        ${k}: ${JSON.stringify(v)}`))
  return `${lines.join('\n')}\n`
}

/** A workspace holding `docker-compose.yml`; removed by `remove`. */
export function workspace(web: WebService): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-cap-'))
  writeFileSync(path.join(dir, 'docker-compose.yml'), composeText(web))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Deploy `web` to `stack` with an image pushed beforehand (nothing is built). */
export function deployWeb(
  lab: Lab,
  stack: string,
  image: { repository: string; tag: string },
  web: WebService,
  extra: Record<string, string> = {}
): { run: Promise<ActionRun>; started: RunningAction } {
  const space = workspace(web)
  const started = startAction(
    lab,
    {
      ...sshInputs(lab),
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      stack,
      image: image.repository,
      tags: image.tag,
      build: 'false',
      timeout: '4m',
      ...extra
    },
    { cwd: space.dir }
  )
  const run = started.done.finally(space.remove)
  return { run, started }
}

/** The nodes Swarm may place tasks on now (ready, active) and the CPUs each offers. */
export function schedulableNodes(lab: Lab): Array<{ name: string; cpus: number }> {
  const ids = docker(lab, ['node', 'ls', '-q']).trim().split('\n').filter(Boolean)
  const nodes = JSON.parse(docker(lab, ['node', 'inspect', ...ids])) as Array<{
    Description: { Hostname: string; Resources: { NanoCPUs: number } }
    Status: { State: string }
    Spec: { Availability: string }
  }>
  return nodes
    .filter(n => n.Status.State === 'ready' && n.Spec.Availability === 'active')
    .map(n => ({ name: n.Description.Hostname, cpus: n.Description.Resources.NanoCPUs / 1e9 }))
}

// Images that are not built by this run, on the lab: `build: false` deploys
// a tag already in the registry pinned to the registry's digest, and a
// missing tag stops the run within 5 s with nothing changed.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Lab } from './harness.js'
import {
  docker,
  expectVerdict,
  inspectService,
  loadLab,
  phaseGroups,
  pushImage,
  registryDigest,
  registryTags,
  removeStack,
  runAction,
  runningNodes,
  sshInputs
} from './harness.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
const STACK = `e2e-reg-${run}`
const NAME = `e2e/existing-${run}`

let lab: Lab
let repository = ''
let workspace = ''

beforeAll(() => {
  lab = loadLab()
  repository = `${lab.registry}/${NAME}`
  // An image only this run has, pushed with the docker CLI from the runner's engine.
  pushImage(lab, `${repository}:v1`, [
    `FROM ${lab.baseImage}`,
    `RUN echo ${run} > /www/run.txt`,
    'HEALTHCHECK --interval=1s --timeout=2s --start-period=2s --retries=2 CMD wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1',
    'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]'
  ])
  // The workspace has a compose file and no Dockerfile: nothing here could be built.
  workspace = mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-ws-'))
  writeFileSync(
    path.join(workspace, 'docker-compose.yml'),
    [
      'version: "3.8"',
      'services:',
      '  web:',
      '    image: ${IMAGE}',
      '    init: true',
      '    deploy:',
      '      replicas: 2',
      '      placement:',
      '        max_replicas_per_node: 1',
      // Shorter than the image's healthcheck needs: only a run that read the image's config can warn.
      '      update_config:',
      '        monitor: 1s',
      ''
    ].join('\n')
  )
})

afterAll(async () => {
  await removeStack(lab, STACK)
  if (workspace) rmSync(workspace, { recursive: true, force: true })
})

function existingInputs(tag: string): Record<string, string> {
  return {
    ...sshInputs(lab),
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    stack: STACK,
    image: repository,
    tags: tag,
    build: 'false',
    timeout: '2m'
  }
}

describe('build: false on the lab', () => {
  it('deploys an existing tag pinned to the digest the registry reports, and pushes nothing', async () => {
    const digest = await registryDigest(lab, NAME, 'v1')
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/)

    const result = await runAction(lab, existingInputs('v1'), { cwd: workspace })
    expectVerdict(result, 0, 'converged')
    expect(result.outputs.image).toBe(`${repository}:v1@${digest}`)
    expect(result.outputs.digest).toBe(digest)
    expect(inspectService(lab, `${STACK}_web`).Spec.TaskTemplate.ContainerSpec.Image).toBe(`${repository}:v1@${digest}`)
    // The worker pulled the private image with the login's credentials.
    expect(runningNodes(lab, `${STACK}_web`)).toEqual([lab.managerNode, lab.workerNode].sort())

    // Nothing was built or pushed: the tag still points where it did, and no other tag appeared.
    expect(await registryDigest(lab, NAME, 'v1')).toBe(digest)
    expect((await registryTags(lab, NAME)).sort()).toEqual(['v1'])
    expect(result.log).not.toMatch(/\[command\]docker (build|push|buildx)/)
    expect(phaseGroups(result)).toEqual([
      `Log in to ${lab.registry}`,
      `Resolve ${repository}:v1`,
      'Connect',
      'Check the target engine',
      'Take the deploy lock',
      `Deploy stack ${STACK}`,
      'Wait for the rollout',
      'Remove unused secret and config versions'
    ])
    expect(result.log).toContain(`${repository}:v1 is ${digest}`)
    // The HEALTHCHECK came from the image's config in the registry.
    expect(result.stdout).toContain(
      `::warning::${STACK}_web: update monitor (1s) is shorter than the healthcheck needs to declare a task unhealthy (start_period + interval × retries = 4s)`
    )
  })

  it('fails on a missing tag within 5 s, naming the tag and the registry, and changes nothing', async () => {
    const missing = `missing-${run}`
    const before = docker(lab, ['service', 'inspect', '--format', '{{.Version.Index}} {{.Spec.TaskTemplate.ContainerSpec.Image}}', `${STACK}_web`]).trim()
    const tasksBefore = docker(lab, ['service', 'ps', '-q', `${STACK}_web`]).trim()

    const result = await runAction(lab, existingInputs(missing), { cwd: workspace })
    expect(result.code).not.toBe(0)
    // The bound on the whole step, start to error.
    expect(result.seconds).toBeLessThan(5)
    expect(result.log).toContain(
      `::error::image: tag ${missing} of ${NAME} was not found on registry ${lab.registry}. With build: false the tag must already be in the registry. Nothing was deployed.`
    )
    expect(result.outputs.status).toBeUndefined()
    expect(result.outputs.image).toBeUndefined()
    expect(phaseGroups(result)).toEqual([`Log in to ${lab.registry}`, `Resolve ${repository}:${missing}`])

    expect(docker(lab, ['service', 'inspect', '--format', '{{.Version.Index}} {{.Spec.TaskTemplate.ContainerSpec.Image}}', `${STACK}_web`]).trim()).toBe(before)
    expect(docker(lab, ['service', 'ps', '-q', `${STACK}_web`]).trim()).toBe(tasksBefore)
    expect(await registryDigest(lab, NAME, missing)).toBeUndefined()
    expect((await registryTags(lab, NAME)).sort()).toEqual(['v1'])
  })
})

// A registry login kept by a Docker credential helper, on the lab (#18): a
// real helper program on the runner's PATH, named by `credHelpers` in the
// runner's Docker config, and no registry-username or registry-password.
// The run asks the helper itself, logs in with what it answers, and the
// worker pulls the private image with it; a helper that is not there stops
// the run before anything is built or deployed, naming it.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Lab } from './harness.js'
import {
  expectVerdict,
  inspectService,
  loadLab,
  phaseGroups,
  pushImage,
  registryDigest,
  removeStack,
  runAction,
  runningNodes,
  sshInputs,
  stackExists
} from './harness.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
const STACK = `creds-${run}`
const MISSING_STACK = `creds-missing-${run}`
const NAME = `e2e/creds-${run}`
const HELPER = `creds-lab-${run}`

let lab: Lab
let repository = ''
let scratch = ''
let bin = ''
let workspace = ''
let seen = ''

/** A Docker config that names `helper` for the lab registry, and nothing else. */
function dockerConfig(helper: string): string {
  const dir = path.join(scratch, `config-${helper}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ credHelpers: { [lab.registry]: helper } }))
  return dir
}

beforeAll(() => {
  lab = loadLab()
  repository = `${lab.registry}/${NAME}`
  pushImage(lab, `${repository}:v1`, [`FROM ${lab.baseImage}`, `RUN echo ${run} > /www/run.txt`, 'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]'])
  scratch = mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-creds-'))
  bin = path.join(scratch, 'bin')
  mkdirSync(bin)
  // The helper's answer lives in a file only this user can read, as a keychain's would.
  const answer = path.join(scratch, 'answer.json')
  writeFileSync(answer, JSON.stringify({ ServerURL: lab.registry, Username: lab.registryUser, Secret: lab.registryPassword }), { mode: 0o600 })
  seen = path.join(scratch, 'seen')
  writeFileSync(
    path.join(bin, `docker-credential-${HELPER}`),
    [
      '#!/bin/sh',
      // What it was asked, and which AWS_* it was given (names only).
      'read -r server || true',
      `{ echo "$1 $server"; env | grep '^AWS_' | cut -d= -f1; } >> ${seen}`,
      `if [ "$1" = get ] && [ "$server" = "${lab.registry}" ]; then cat ${answer}; exit 0; fi`,
      'echo "credentials not found in native keychain"; exit 1',
      ''
    ].join('\n'),
    { mode: 0o700 }
  )
  workspace = path.join(scratch, 'ws')
  mkdirSync(workspace)
  writeFileSync(
    path.join(workspace, 'Dockerfile'),
    [`FROM ${lab.baseImage}`, `RUN echo built-${run} > /www/run.txt`, 'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]', ''].join('\n')
  )
  writeFileSync(
    path.join(workspace, 'docker-compose.yml'),
    [
      'services:',
      '  web:',
      '    image: ${IMAGE}',
      '    init: true',
      '    deploy:',
      '      replicas: 2',
      '      placement:',
      '        max_replicas_per_node: 1',
      ''
    ].join('\n')
  )
})

afterAll(async () => {
  await removeStack(lab, STACK)
  await removeStack(lab, MISSING_STACK)
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

function helperEnv(helper: string): Record<string, string> {
  // AWS_* on the runner: the helper's child gets them, no docker child does.
  return { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, DOCKER_CONFIG: dockerConfig(helper), AWS_ACCESS_KEY_ID: `AKIACREDS${run.toUpperCase()}` }
}

function inputs(stack: string, extra: Record<string, string>): Record<string, string> {
  return { ...sshInputs(lab), stack, image: repository, timeout: '2m', ...extra }
}

describe("a login kept by the runner's credential helper", () => {
  it('deploys an existing tag with it: the digest lookup and the worker pull with its login', async () => {
    const digest = await registryDigest(lab, NAME, 'v1')
    const result = await runAction(lab, inputs(STACK, { tags: 'v1', build: 'false' }), { cwd: workspace, env: helperEnv(HELPER) })
    expectVerdict(result, 0, 'converged')
    expect(result.outputs.image).toBe(`${repository}:v1@${digest}`)
    expect(result.log).toContain(`Logging in to ${lab.registry} as ${lab.registryUser} with the login the credential helper docker-credential-${HELPER}`)
    expect(result.log).toContain(`Asking ${lab.registry} for the digest of ${repository}:v1 as ${lab.registryUser}`)
    // The worker could pull the private image only with the credential --with-registry-auth stored.
    expect(runningNodes(lab, `${STACK}_web`)).toEqual([lab.managerNode, lab.workerNode].sort())
    expect(result.log).not.toContain(lab.registryPassword)
    expect(readFileSync(seen, 'utf8')).toBe(`get ${lab.registry}\nAWS_ACCESS_KEY_ID\n`)
  })

  it('builds, pushes and deploys with it', async () => {
    const tag = `built-${run}`
    const result = await runAction(lab, inputs(STACK, { tags: tag }), { cwd: workspace, env: helperEnv(HELPER) })
    expectVerdict(result, 0, 'converged')
    const digest = await registryDigest(lab, NAME, tag)
    expect(result.outputs.digest).toBe(digest)
    // The run logged in with the helper's answer: the docker CLI never ran the helper itself.
    expect(result.log).toContain(`Logging in to ${lab.registry} as ${lab.registryUser} with the login the credential helper docker-credential-${HELPER}`)
    expect(readFileSync(seen, 'utf8').split('\n').filter(Boolean)).toEqual([
      `get ${lab.registry}`,
      'AWS_ACCESS_KEY_ID',
      `get ${lab.registry}`,
      'AWS_ACCESS_KEY_ID'
    ])
    expect(inspectService(lab, `${STACK}_web`).Spec.TaskTemplate.ContainerSpec.Image).toBe(`${repository}:${tag}@${digest}`)
    expect(runningNodes(lab, `${STACK}_web`)).toEqual([lab.managerNode, lab.workerNode].sort())
    expect(result.log).not.toContain(lab.registryPassword)
  })

  it('stops before anything is built or deployed when the helper is not on PATH, naming it and the registry', async () => {
    const result = await runAction(lab, inputs(MISSING_STACK, { tags: `never-${run}` }), { cwd: workspace, env: helperEnv(`missing-${run}`) })
    expect(result.code).not.toBe(0)
    expect(result.log).toContain(
      `::error::the credential helper docker-credential-missing-${run} (credHelpers for ${lab.registry} in the runner's Docker config) is not on the runner's PATH.`
    )
    expect(phaseGroups(result)).toEqual([])
    expect(result.log).not.toMatch(/\[command\]docker (build|push|stack)/)
    expect(stackExists(lab, MISSING_STACK)).toBe(false)
    expect(await registryDigest(lab, NAME, `never-${run}`)).toBeUndefined()
  })
})

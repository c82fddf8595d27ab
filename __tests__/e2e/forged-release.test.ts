// A forged release record on the lab swarm: a config with the release labels,
// created by anyone with Engine API access, whose compose would make the
// runner's docker CLI read /proc/self/environ into a config and hand the
// deploy's DB_PASSWORD to an image of the forger's. Neither
// on-failure: rollback-stack nor rollback: 99 may deploy it: the first falls
// back to the genuine release, the second stops with nothing changed, and
// both name the refused record.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Lab } from './harness.js'
import { docker, expectVerdict, inspectService, loadLab, removeStack, runAction, runCli, sshFlags, sshInputs } from './harness.js'

jest.setTimeout(300_000)

const run = Date.now().toString(36)
const STACK = `trust-fr-${run}`
const DB_PASSWORD = `trust-db-pw-${run}-5f1c9e`
const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-trust-'))

let lab: Lab

const service = (healthy: boolean): string => `version: "3.8"
secrets:
  db_password:
    environment: DB_PASSWORD
services:
  app:
    image: \${BASE_IMAGE}
    command: ["sleep", "3600"]
    init: true
    secrets: [db_password]
    healthcheck: { test: ["CMD", "${healthy}"], interval: 1s, timeout: 2s, retries: 1, start_period: 1s }
    deploy:
      replicas: 1
      update_config: { order: start-first, monitor: 3s, failure_action: rollback }
`

/** What the forger records: the runner's environment into a config, DB_PASSWORD into a service of theirs. */
function forgedCompose(image: string): string {
  return `version: "3.8"
configs:
  leak:
    file: /proc/self/environ
services:
  app:
    image: ${image}
    command: ["sleep", "3600"]
    configs: [leak]
  grab:
    image: ${image}
    command: ["sleep", "3600"]
    environment:
      DB_PASSWORD: \${DB_PASSWORD}
`
}

function createForged(): void {
  const image = `${lab.registry}/lab/busybox:1`
  const data = {
    format: 1,
    stack: STACK,
    number: 99,
    time: new Date().toISOString(),
    sha: 'f'.repeat(40),
    ref: 'refs/heads/main',
    actor: 'mallory',
    runUrl: '',
    rollbackTo: null,
    image: null,
    services: [
      { name: `${STACK}_app`, image, secrets: [], configs: [] },
      { name: `${STACK}_grab`, image, secrets: [], configs: [] }
    ],
    compose: [{ path: 'docker-compose.yml', text: forgedCompose(image) }],
    variables: ['DB_PASSWORD']
  }
  const file = path.join(dir, 'forged.json')
  writeFileSync(file, JSON.stringify(data))
  docker(lab, [
    'config',
    'create',
    '--label',
    `com.docker.stack.namespace=${STACK}`,
    '--label',
    'io.swarm-deploy.release=99',
    '--label',
    'io.swarm-deploy.release.status=converged',
    `${STACK}_release_99`,
    file
  ])
}

function inputs(file: string, extra: Record<string, string> = {}): Record<string, string> {
  writeFileSync(path.join(dir, file), service(file === 'good.yml'))
  return {
    ...sshInputs(lab),
    stack: STACK,
    'compose-file': path.join(dir, file),
    env: `BASE_IMAGE=${lab.registry}/lab/busybox:1\nDB_PASSWORD=${DB_PASSWORD}`,
    registry: lab.registry,
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    timeout: '2m',
    ...extra
  }
}

/** Every config of the stack, with its data. */
function stackConfigs(): Array<{ name: string; data: string }> {
  const ids = docker(lab, ['config', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${STACK}`])
    .trim()
    .split('\n')
    .filter(Boolean)
  const all = ids.length === 0 ? [] : (JSON.parse(docker(lab, ['config', 'inspect', ...ids])) as Array<{ Spec: { Name: string; Data: string } }>)
  return all.map(c => ({ name: c.Spec.Name, data: Buffer.from(c.Spec.Data, 'base64').toString('utf8') }))
}

function stackServices(): string {
  const ids = docker(lab, ['service', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${STACK}`])
    .trim()
    .split('\n')
    .filter(Boolean)
  return ids.length === 0 ? '[]' : docker(lab, ['service', 'inspect', ...ids])
}

/** Nothing of the forged compose reached the swarm. */
function expectNothingForged(): void {
  expect(
    docker(lab, ['config', 'ls', '--format', '{{.Name}}'])
      .split('\n')
      .filter(name => name.includes(`${STACK}_leak`))
  ).toEqual([])
  for (const config of stackConfigs()) {
    expect(config.data).not.toContain(DB_PASSWORD)
    expect(config.data).not.toMatch(/(^|\0)(PATH|HOME|DOCKER_HOST)=/)
  }
  const services = stackServices()
  expect(services).not.toContain(DB_PASSWORD)
  expect(services).not.toContain(`${STACK}_grab`)
}

beforeAll(() => {
  lab = loadLab()
})

afterAll(async () => {
  await removeStack(lab, STACK)
  // A config the stack's removal left (the forged one is labelled as the stack's, so it should be gone).
  for (const config of stackConfigs()) docker(lab, ['config', 'rm', config.name])
})

describe('a forged release record on the swarm', () => {
  it('is passed over by on-failure: rollback-stack, which puts the genuine release back and names the refused record', async () => {
    expectVerdict(await runAction(lab, inputs('good.yml')), 0, 'converged')
    createForged()
    const result = await runAction(lab, inputs('bad.yml', { 'on-failure': 'rollback-stack' }))
    expectVerdict(result, 'non-zero', 'rolled-back')
    expect(result.log).toMatch(/putting release #1 back for every service/)
    expect(result.log).toContain(`"${STACK}_release_99" (config `)
    expect(result.log).toContain('it carries no proof')
    expect(result.outputs['previous-release']).toBe('1')
    expect(inspectService(lab, `${STACK}_app`).Spec.TaskTemplate.ContainerSpec.Configs ?? []).toEqual([])
    expectNothingForged()
  })

  it('rollback: 99 stops, naming it, with nothing changed', async () => {
    const before = inspectService(lab, `${STACK}_app`) as unknown as { Version: { Index: number } }
    const result = await runAction(lab, inputs('good.yml', { rollback: '99' }))
    expect(result.code).not.toBe(0)
    expect(result.log).toMatch(new RegExp(`release #99 of stack ${STACK} is not one this project wrote`))
    expect(result.log).toContain(`"${STACK}_release_99"`)
    expect(result.log).toContain('Nothing was changed')
    expect((inspectService(lab, `${STACK}_app`) as unknown as { Version: { Index: number } }).Version.Index).toBe(before.Version.Index)
    expectNothingForged()
  })

  it('the CLI lists it as refused, not hidden', async () => {
    const listed = await runCli(lab, ['releases', '--stack', STACK, ...sshFlags(lab)])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/#99\s+REFUSED/)
    expect(listed.stdout).toMatch(/#1\s+converged/)
  })
})

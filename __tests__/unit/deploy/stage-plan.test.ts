import { describe, expect, it } from '@jest/globals'
import * as YAML from 'yaml'
import { isStaged, keepServices, runLabelFile, stageName, stagePlanOf, stageProblems, stagesOf } from '../../../src/deploy/stage-plan.js'

const STACK_FILE = `x-base: &base
  image: \${IMAGE}
services:
  migrate:
    image: \${IMAGE}
    command: ["sh", "-c", "cat /run/secrets/db"]
    secrets: [db]
    deploy:
      mode: replicated-job
      labels:
        io.swarm-deploy.hook: pre-deploy
  web:
    <<: *base
    deploy:
      labels: ["io.swarm-deploy.wave=2"]
  api:
    image: api:1
    deploy:
      labels:
        io.swarm-deploy.wave: "1"
  db:
    image: db:1
  notify:
    image: busybox
    deploy:
      mode: global-job
      labels:
        io.swarm-deploy.hook: post-deploy
secrets:
  db:
    environment: DB_PASSWORD
`
const file = (text: string) => [{ path: 'stack.yml', text }]

describe('stagePlanOf', () => {
  it('reads hooks and waves from deploy.labels, map or list, merge keys resolved', () => {
    const { plan, problems } = stagePlanOf(file(STACK_FILE))
    expect(problems).toEqual([])
    expect(plan).toEqual({
      preDeploy: ['migrate'],
      postDeploy: ['notify'],
      waves: [
        { wave: 0, services: ['db'] },
        { wave: 1, services: ['api'] },
        { wave: 2, services: ['web'] }
      ]
    })
    expect(isStaged(plan)).toBe(true)
  })

  it('takes a later file over an earlier one, as docker merges them', () => {
    const override = `services:\n  web:\n    deploy:\n      labels:\n        io.swarm-deploy.wave: "0"\n`
    const { plan } = stagePlanOf([...file(STACK_FILE), { path: 'override.yml', text: override }])
    expect(plan.waves).toEqual([
      { wave: 0, services: ['db', 'web'] },
      { wave: 1, services: ['api'] }
    ])
  })

  it('names every bad label before anything runs', () => {
    const bad = `services:
  a:
    image: x
    deploy:
      labels: {io.swarm-deploy.hook: pre-deploy}
  b:
    image: x
    deploy:
      mode: replicated-job
      labels: {io.swarm-deploy.hook: before}
  c:
    image: x
    deploy:
      labels: {io.swarm-deploy.wave: "-1"}
  d:
    image: x
    deploy:
      mode: replicated-job
      labels: {io.swarm-deploy.hook: post-deploy, io.swarm-deploy.wave: "1"}
`
    expect(stageProblems(file(bad))).toEqual([
      'compose-file: service a: a pre-deploy hook must be a job: set deploy.mode to replicated-job or global-job (it is replicated)',
      "compose-file: service b: io.swarm-deploy.hook is 'before': use pre-deploy or post-deploy",
      `compose-file: service c: io.swarm-deploy.wave is '-1': use a whole number 0 or more, like "1"`,
      'compose-file: service d: a hook has no wave: remove io.swarm-deploy.wave from it, or io.swarm-deploy.hook'
    ])
  })

  it('is not staged without hooks or a second wave: one docker stack deploy, as before', () => {
    const { plan } = stagePlanOf(file(`services:\n  web:\n    image: x\n    deploy:\n      labels: {io.swarm-deploy.wave: "3"}\n`))
    expect(isStaged(plan)).toBe(false)
    expect(stagesOf(plan, true)).toEqual([{ kind: 'wave', wave: 3, services: ['web'], last: true }])
  })
})

describe('stagesOf', () => {
  const { plan } = stagePlanOf(file(STACK_FILE))

  it('runs pre-deploy hooks, the waves low to high, then post-deploy hooks', () => {
    expect(stagesOf(plan, true).map(stageName)).toEqual(['pre-deploy hook migrate', 'wave 0 (db)', 'wave 1 (api)', 'wave 2 (web)', 'post-deploy hook notify'])
    expect(stagesOf(plan, true).filter(s => s.last)).toEqual([{ kind: 'wave', wave: 2, services: ['web'], last: true }])
  })

  it('leaves the hooks out of a rollback without hooks-on-rollback', () => {
    expect(stagesOf(plan, false).map(stageName)).toEqual(['wave 0 (db)', 'wave 1 (api)', 'wave 2 (web)'])
  })

  it('gives a stack of hooks alone an empty last wave', () => {
    const { plan: hooksOnly } = stagePlanOf(
      file(`services:\n  m:\n    image: x\n    deploy:\n      mode: replicated-job\n      labels: {io.swarm-deploy.hook: pre-deploy}\n`)
    )
    expect(stagesOf(hooksOnly, true)).toEqual([
      { kind: 'pre-deploy', services: ['m'] },
      { kind: 'wave', wave: 0, services: [], last: true }
    ])
  })
})

describe('keepServices', () => {
  const servicesOf = (text: string) => Object.keys((YAML.parse(text) as { services: Record<string, unknown> }).services ?? {})

  it('cuts the other services from the text and keeps the rest as written', () => {
    const [copy] = keepServices(file(STACK_FILE), new Set(['migrate']))
    expect(servicesOf(copy!.text)).toEqual(['migrate'])
    // The top-level secrets and the x- anchors stay; the kept service is byte for byte the same.
    expect(copy!.text).toContain('secrets:\n  db:\n    environment: DB_PASSWORD\n')
    expect(copy!.text).toContain('x-base: &base')
    expect(copy!.text).toContain(STACK_FILE.slice(STACK_FILE.indexOf('  migrate:'), STACK_FILE.indexOf('  web:')))
  })

  it('keeps services in the middle and at the end', () => {
    const [copy] = keepServices(file(STACK_FILE), new Set(['api', 'notify']))
    expect(servicesOf(copy!.text)).toEqual(['api', 'notify'])
    expect(YAML.parse(copy!.text).services.notify.deploy.mode).toBe('global-job')
  })

  it('leaves an empty map where a file keeps none of its services, and a file with nothing to cut as it is', () => {
    const files = [...file(STACK_FILE), { path: 'o.yml', text: 'services:\n  web:\n    environment: {A: "1"}\n' }]
    const [first, second] = keepServices(files, new Set(['web']))
    expect(servicesOf(first!.text)).toEqual(['web'])
    expect(second).toBe(files[1])
    const [none] = keepServices(file(STACK_FILE), new Set())
    expect(YAML.parse(none!.text).services).toEqual({})
    expect(YAML.parse(none!.text).secrets).toEqual({ db: { environment: 'DB_PASSWORD' } })
  })

  it('refuses a flow mapping of services it would have to cut', () => {
    expect(() => keepServices(file('services: {a: {image: x}, b: {image: y}}\n'), new Set(['a']))).toThrow(/block mapping/)
  })

  it('finds an anchor a step would cut from under a service that uses it', () => {
    const text = `services:
  m:
    image: x
    deploy:
      mode: replicated-job
      labels: {io.swarm-deploy.hook: pre-deploy}
  a: &shared
    image: y
  b:
    <<: *shared
    deploy:
      labels: {io.swarm-deploy.wave: "1"}
`
    expect(stageProblems(file(text))[0]).toMatch(/the copy for wave 1 \(b\) does not parse: define anchors outside services/)
  })
})

describe('runLabelFile', () => {
  it('labels the hooks with the run ID, with the first file version docker wants matched', () => {
    const text = runLabelFile([{ path: 'a.yml', text: 'version: "3.8"\nservices: {}\n' }], ['migrate', 'seed'], 'shop-1-abc')
    expect(YAML.parse(text)).toEqual({
      version: '3.8',
      services: { migrate: { labels: { 'io.swarm-deploy.run': 'shop-1-abc' } }, seed: { labels: { 'io.swarm-deploy.run': 'shop-1-abc' } } }
    })
    expect(YAML.parse(runLabelFile(file(STACK_FILE), ['migrate'], 'x'))).toEqual({ services: { migrate: { labels: { 'io.swarm-deploy.run': 'x' } } } })
  })
})

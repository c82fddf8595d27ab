// Hooks and waves through the whole engine, with a fake swarm that reads
// each `docker stack deploy`'s compose files (the step's copy) and runs or
// fails each service as the test says: the order of the deploys, where a
// failure stops, what the verdict names, and what a rollback skips.
import { describe, expect, it } from '@jest/globals'
import * as path from 'node:path'
import * as YAML from 'yaml'
import { runDeploy } from '../../src/engine.js'
import type { Inputs } from '../../src/inputs/inputs.js'
import type { CliOptions, CliResult, DockerCli } from '../../src/ports.js'
import type { Service, Snapshot, Task } from '../../src/swarm/model.js'
import { fakeWorld, inputsFor, recordingReporter, STACK } from '../support/fake-world.js'

const COMPOSE = `services:
  migrate:
    image: \${IMAGE}
    deploy:
      mode: replicated-job
      labels: {io.swarm-deploy.hook: pre-deploy}
  db:
    image: \${IMAGE}
  api:
    image: \${IMAGE}
    deploy:
      labels: {io.swarm-deploy.wave: "1"}
  web:
    image: \${IMAGE}
    environment:
      DB_PASSWORD: \${DB_PASSWORD}
    deploy:
      labels: {io.swarm-deploy.wave: "2"}
  notify:
    image: \${IMAGE}
    deploy:
      mode: replicated-job
      labels: {io.swarm-deploy.hook: post-deploy}
`

type Fate = 'ok' | 'fail'

/** fakeWorld with a swarm of many services: each deploy creates or updates the services its files name. */
function stagedWorld(fates: Record<string, Fate> = {}) {
  const fake = fakeWorld()
  fake.files.set('docker-compose.yml', COMPOSE)
  const services = new Map<string, Service>()
  let tasks: Task[] = []
  const deploys: string[][] = []
  let made = 0
  const deploy = (name: string, entry: Record<string, unknown>): void => {
    const full = `${STACK}_${name}`
    const job = (entry.deploy as { mode?: string } | undefined)?.mode === 'replicated-job'
    // Container labels are part of the task template, as on a real swarm.
    const template = { ContainerSpec: { Image: String(entry.image), Labels: entry.labels ?? {} } } as Service['Spec']['TaskTemplate']
    const old = services.get(full)
    const changed = JSON.stringify(old?.Spec.TaskTemplate) !== JSON.stringify(template)
    const service: Service = {
      ID: old?.ID ?? `id-${name}`,
      Version: { Index: (old?.Version.Index ?? 0) + 1 },
      Spec: {
        Name: full,
        Labels: { 'com.docker.stack.namespace': STACK },
        TaskTemplate: template,
        Mode: job ? { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } } : { Replicated: { Replicas: 1 } }
      }
    }
    services.set(full, service)
    // Swarm runs a job again on every update; a service only when its template changed.
    if (!job && !changed) return
    if (!job) tasks = tasks.map(t => (t.ServiceID === service.ID ? { ...t, DesiredState: 'shutdown', Status: { State: 'shutdown' } } : t))
    const fails = fates[name] === 'fail'
    const failed: Task['Status'] = { State: 'failed', Err: 'task: non-zero exit (3)', ContainerStatus: { ExitCode: 3 } }
    const status: Task['Status'] = fails ? failed : { State: job ? 'complete' : 'running' }
    for (let i = 0; i < (fails && !job ? 2 : 1); i++) {
      tasks.push({ ID: `t${++made}`, ServiceID: service.ID, Slot: 1, NodeID: 'n1', Spec: template, DesiredState: job ? 'complete' : 'running', Status: status })
    }
  }
  const base = fake.adapters
  const cli = (...args: Parameters<typeof base.dockerCli>): DockerCli => ({
    async run(argv: string[], options?: CliOptions): Promise<CliResult> {
      if (argv[0] === 'stack' && argv[1] === 'deploy') {
        if (argv.includes('--prune')) throw new Error('fake: --prune would remove the hooks the last wave leaves out')
        const merged: Record<string, Record<string, unknown>> = {}
        for (const [i, arg] of argv.entries()) {
          if (arg !== '--compose-file') continue
          const doc = YAML.parse(fake.files.get(path.normalize(argv[i + 1]!)) ?? '') as { services?: Record<string, Record<string, unknown>> }
          for (const [name, entry] of Object.entries(doc.services ?? {})) merged[name] = { ...merged[name], ...entry }
        }
        const names = Object.keys(merged).sort()
        deploys.push(names)
        fake.effects.push(`stack deploy ${names.join(' ')}`)
        for (const name of names) deploy(name, merged[name]!)
        return { code: 0, stdout: '', stderr: '', timedOut: false }
      }
      if (argv[0] === 'service' && argv[1] === 'rm') {
        fake.effects.push(`service rm ${argv.slice(2).join(' ')}`)
        for (const name of argv.slice(2)) services.delete(name)
        return { code: 0, stdout: '', stderr: '', timedOut: false }
      }
      return base.dockerCli(...args).run(argv, options)
    }
  })
  const api = (socketPath: string) => ({
    ...base.swarmApi(socketPath),
    snapshot: async (): Promise<Snapshot> => ({
      services: [...services.values()],
      tasks,
      nodes: [{ ID: 'n1', Description: { Hostname: 'mgr' }, Status: { State: 'ready' } }]
    }),
    taskLogs: async () => Buffer.from('migrating\nboom\n')
  })
  return { ...fake, adapters: { ...base, dockerCli: cli, swarmApi: api }, deploys, fates, services, tasks: () => tasks }
}

async function deploy(world: ReturnType<typeof stagedWorld>, overrides: Partial<Inputs> = {}) {
  const reporter = recordingReporter()
  const outcome = await runDeploy(inputsFor(overrides), world.host, world.adapters, reporter)
  return { reporter, outcome }
}

describe('hooks and waves', () => {
  it('run as steps: the pre-deploy hook, each wave, the rest of the stack without the hooks, then the post-deploy hook', async () => {
    const world = stagedWorld()
    const { outcome, reporter } = await deploy(world)
    expect(outcome.stopped).toBeUndefined()
    expect(outcome.status).toBe('converged')
    expect(world.deploys).toEqual([['migrate'], ['db'], ['api'], ['api', 'db', 'web'], ['notify']])
    // The hooks' copies carry the step's run ID: a new template, so this deploy's run is what is waited for.
    expect(world.services.get(`${STACK}_migrate`)!.Spec.TaskTemplate).toMatchObject({
      ContainerSpec: { Labels: { 'io.swarm-deploy.run': expect.any(String) } }
    })
    expect(outcome.stages!.map(s => [s.name, s.status])).toEqual([
      ['pre-deploy hook migrate', 'converged'],
      ['wave 0 (db)', 'converged'],
      ['wave 1 (api)', 'converged'],
      ['wave 2 (web)', 'converged'],
      ['post-deploy hook notify', 'converged']
    ])
    expect(reporter.phases()).toEqual(
      expect.arrayContaining(['Deploy the pre-deploy hook migrate', 'Wait for the pre-deploy hook migrate', `Deploy stack ${STACK}: wave 2 (web)`])
    )
    // The verdict covers every service, the post-deploy hook too.
    expect(outcome.verdict!.services.map(s => s.name)).toEqual(['api', 'db', 'migrate', 'notify', 'web'].map(n => `${STACK}_${n}`).sort())
    expect(outcome.report!.stages).toEqual(outcome.stages)
  })

  it('stop at a failed pre-deploy hook: nothing else deployed, the verdict names the hook, its exit code and log, the release failed', async () => {
    const world = stagedWorld({ migrate: 'fail' })
    const { outcome } = await deploy(world, { onFailure: 'rollback-stack' })
    expect(outcome.status).toBe('failed')
    expect(world.deploys).toEqual([['migrate']])
    expect(outcome.verdict!.summary).toBe(
      `Stack ${STACK} failed: pre-deploy hook migrate did not complete (exit code 3 on mgr; last log lines: migrating | boom). Nothing else of the stack was changed; the hook's service is kept for inspection until the next deploy. Not run: wave 0 (db); wave 1 (api); wave 2 (web); post-deploy hook notify.`
    )
    expect(world.effects).toContain(`label release ${STACK}_release_1 failed`)
    // rollback-stack has nothing to put back: no service changed.
    expect(world.effects.filter(e => e.startsWith('stack deploy'))).toHaveLength(1)
    expect(outcome.diagnoses.map(d => d.failure.exitCode)).toEqual([3])
    expect(outcome.stages!.map(s => s.status)).toEqual(['failed', 'not run', 'not run', 'not run', 'not run'])
  })

  it('stop at the first wave that does not converge, and name it and the waves left untouched', async () => {
    const world = stagedWorld({ api: 'fail' })
    const { outcome } = await deploy(world)
    expect(outcome.status).toBe('failed')
    expect(world.deploys).toEqual([['migrate'], ['db'], ['api']])
    expect(outcome.verdict!.summary).toMatch(new RegExp(`^Stack ${STACK} failed at wave 1 \\(api\\): failed: ${STACK}_api \\(the new service fails to start`))
    expect(outcome.verdict!.summary).toMatch(/Not run: wave 2 \(web\); post-deploy hook notify\.$/)
  })

  it('a failed post-deploy hook fails the deploy; with rollback-stack the last converged release goes back, its hooks skipped', async () => {
    const world = stagedWorld()
    expect((await deploy(world)).outcome.status).toBe('converged')
    world.fates.notify = 'fail'
    const { outcome, reporter } = await deploy(world, { onFailure: 'rollback-stack' })
    expect(outcome.stopped).toBeUndefined()
    expect(outcome.status).toBe('rolled-back')
    expect(outcome.report!.firstVerdict!.summary).toMatch(
      /post-deploy hook notify did not complete \(exit code 3 on mgr; last log lines: migrating \| boom\), after the stack's services converged\./
    )
    // The second round is release #1's waves alone: no hook is deployed, so none runs.
    expect(world.deploys.slice(10)).toEqual([['db'], ['api'], ['api', 'db', 'web']])
    expect(reporter.lines()).toContain('Skipping the pre-deploy hook migrate: this is a rollback (set hooks-on-rollback: true to run them)')
    expect(outcome.stages!.filter(s => s.round).map(s => [s.round, s.name, s.status])).toEqual([
      ['rollback to #1', 'pre-deploy hook migrate', 'skipped'],
      ['rollback to #1', 'post-deploy hook notify', 'skipped'],
      ['rollback to #1', 'wave 0 (db)', 'converged'],
      ['rollback to #1', 'wave 1 (api)', 'converged'],
      ['rollback to #1', 'wave 2 (web)', 'converged']
    ])
  })

  it('run on a rollback with hooks-on-rollback: true', async () => {
    const world = stagedWorld()
    expect((await deploy(world)).outcome.status).toBe('converged')
    const { outcome } = await deploy(world, { rollback: { kind: 'number', number: 1 }, hooksOnRollback: true, image: undefined })
    expect(outcome.status).toBe('converged')
    expect(world.deploys.slice(5)).toEqual([['migrate'], ['db'], ['api'], ['api', 'db', 'web'], ['notify']])
  })

  it('with prune: the last wave runs without --prune, and only the services no file names are removed, the hooks kept', async () => {
    const world = stagedWorld()
    expect((await deploy(world)).outcome.status).toBe('converged')
    world.files.set('docker-compose.yml', COMPOSE.replace('  db:\n    image: ${IMAGE}\n', ''))
    const { outcome } = await deploy(world, { prune: true })
    expect(outcome.status).toBe('converged')
    expect(world.effects.filter(e => e.startsWith('service rm'))).toEqual([`service rm ${STACK}_db`])
    expect([...world.services.keys()].sort()).toEqual(['api', 'migrate', 'notify', 'web'].map(n => `${STACK}_${n}`))
  })

  it('are listed in order by a dry run, and nothing is deployed', async () => {
    const world = stagedWorld()
    const { outcome, reporter } = await deploy(world, { dryRun: true })
    expect(world.deploys).toEqual([])
    expect(outcome.plan!.steps!.map(s => s.name)).toEqual(['pre-deploy hook migrate', 'wave 0 (db)', 'wave 1 (api)', 'wave 2 (web)', 'post-deploy hook notify'])
    expect(reporter.lines()).toMatch(/Steps, in order:\n\s+1\. pre-deploy hook migrate: migrate runs\n\s+2\. wave 0 \(db\): db unchanged/)
  })
})

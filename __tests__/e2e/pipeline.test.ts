// The core pipeline on the lab swarm: build → push → SSH → stack deploy →
// verdict, for a fresh deploy, an update, a failing update, an
// unschedulable service, a wrong host key and bad inputs.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Lab } from './harness.js'
import {
  APP,
  docker,
  expectVerdict,
  inspectService,
  leaks,
  loadLab,
  removeStack,
  runAction,
  runningNodes,
  servicesOf,
  sshInputs,
  stackExists
} from './harness.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
const STACK = `e2e-core-${run}`
const STUCK = `e2e-stuck-${run}`
// Awkward on purpose: quotes, $, command substitution, backticks, = and non-ASCII.
const DB_PASSWORD = `pw-${run}'"$(id)\`x\`=ü-end`
const GREETING = `greeting-${run}`

let lab: Lab
let registryInputs: Record<string, string>

beforeAll(() => {
  lab = loadLab()
  registryInputs = { 'registry-username': lab.registryUser, 'registry-password': lab.registryPassword }
})

afterAll(async () => {
  await removeStack(lab, STACK)
  await removeStack(lab, STUCK)
})

function appInputs(tag: string, buildArgs: string): Record<string, string> {
  return {
    ...sshInputs(lab),
    ...registryInputs,
    stack: STACK,
    image: `${lab.registry}/e2e/hello`,
    tags: tag,
    'build-args': buildArgs,
    env: `DB_PASSWORD=${DB_PASSWORD}\nGREETING=${GREETING}`,
    timeout: '3m'
  }
}

function secretsIn(result: Awaited<ReturnType<typeof runAction>>): string[] {
  return leaks([DB_PASSWORD, GREETING, lab.registryPassword], {
    log: result.log,
    outputs: result.outputFile,
    summary: result.summary
  })
}

describe('core pipeline on the lab swarm', () => {
  let firstImage = ''
  let secondImage = ''

  it('deploys a fresh stack: pinned digest, env in the spec, tasks on both nodes, no secret printed', async () => {
    const result = await runAction(lab, appInputs(`v1-${run}`, 'VERSION=1'))
    expect(result.log).toContain('converged')
    expectVerdict(result, 0, 'converged')
    // One SSH connection carried every request of the deploy.
    expect(result.log).toMatch(/Verdict converged after [\d.]+s: \d+ polls, \d+ API calls, 1 SSH connection\(s\)/)
    expect(result.outputs.image).toMatch(new RegExp(`^${lab.registry}/e2e/hello:v1-${run}@sha256:[0-9a-f]{64}$`))
    expect(result.outputs.digest).toBe(result.outputs.image!.split('@')[1])
    firstImage = result.outputs.image!

    const service = inspectService(lab, `${STACK}_web`)
    expect(service.Spec.TaskTemplate.ContainerSpec.Image).toBe(firstImage)
    expect(service.Spec.TaskTemplate.ContainerSpec.Env).toEqual(expect.arrayContaining([`DB_PASSWORD=${DB_PASSWORD}`, `GREETING=${GREETING}`]))
    // The worker could only pull from the private registry through --with-registry-auth.
    expect(runningNodes(lab, `${STACK}_web`)).toEqual([lab.managerNode, lab.workerNode].sort())

    const services = servicesOf(result)
    expect(services).toEqual([expect.objectContaining({ name: `${STACK}_web`, running: 4, desired: 4, state: 'converged' })])
    expect(result.summary).toContain('| Service | Image | Replicas | Nodes | State |')
    expect(result.summary).toContain(`${STACK}_web`)
    // The picture: a Mermaid box per node with its running tasks.
    expect(result.summary).toContain('```mermaid')
    expect(result.summary).toContain(`["${lab.managerNode}"]`)
    expect(result.summary).toContain(`["${lab.workerNode}"]`)
    expect(result.summary).toMatch(new RegExp(`\\["${STACK}_web\\.\\d<br/>running"\\]`))
    expect(secretsIn(result)).toEqual([])
    // Every group of the pipeline ran, in order.
    const groups = result.stdout
      .split('\n')
      .filter(l => l.startsWith('::group::'))
      .map(l => l.slice(9))
    expect(groups).toEqual([
      `Log in to ${lab.registry}`,
      `Build and push ${lab.registry}/e2e/hello`,
      'Connect',
      'Check the target engine',
      'Take the deploy lock',
      `Deploy stack ${STACK}`,
      'Wait for the rollout',
      'Remove unused secret and config versions'
    ])
    // The throwaway Docker config is gone and ~/.docker was never written.
    expect(readdirSync(result.runnerTemp)).toEqual([])
    expect(existsSync(path.join(result.home, '.docker'))).toBe(false)
  })

  it('updates to a new image and succeeds only once Swarm reports the update completed', async () => {
    const result = await runAction(lab, appInputs(`v2-${run}`, 'VERSION=2'))
    expectVerdict(result, 0, 'converged')
    secondImage = result.outputs.image!
    expect(secondImage).not.toBe(firstImage)
    expect(secondImage.split('@')[1]).not.toBe(firstImage.split('@')[1])
    const service = inspectService(lab, `${STACK}_web`)
    expect(service.UpdateStatus?.State).toBe('completed')
    expect(service.Spec.TaskTemplate.ContainerSpec.Image).toBe(secondImage)
    expect(result.log).toMatch(/update completed \(4\/4 running\)/)
    expect(secretsIn(result)).toEqual([])
  })

  it('redeploying the same image starts no update and converges at once as unchanged', async () => {
    const before = inspectService(lab, `${STACK}_web`)
    const result = await runAction(lab, appInputs(`v2-${run}`, 'VERSION=2'))
    expect(result.code).toBe(0)
    expect(result.outputs.image).toBe(secondImage)
    expect(servicesOf(result)).toEqual([expect.objectContaining({ change: 'unchanged', state: 'converged', updateState: null })])
    expect(result.log).toMatch(/_web: unchanged, 4\/4 running/)
    // No new update began (Swarm clears the old UpdateStatus on a same-spec update).
    const after = inspectService(lab, `${STACK}_web`).UpdateStatus
    expect(after === undefined || after.StartedAt === before.UpdateStatus?.StartedAt).toBe(true)
  })

  // DB_PASSWORD=a: a value under 4 characters is neither masked nor redacted
  // (hardening item 2), so Swarm's words stay whole; one warning names it.
  it('reports a rolled-back update whose healthcheck fails, with the task error, and leaves the previous digest', async () => {
    const result = await runAction(lab, { ...appInputs(`bad-${run}`, 'VERSION=3\nHEALTH_PATH=missing'), env: `DB_PASSWORD=a\nGREETING=${GREETING}` })
    expectVerdict(result, 'non-zero', 'rolled-back')
    expect(result.log).toContain('unhealthy container')
    expect(result.log.match(/::warning::env DB_PASSWORD: the value is shorter than 4 characters/g)).toHaveLength(1)
    expect(result.stdout).not.toMatch(/^::add-mask::a$/m)
    expect(result.log).toMatch(/rolled the service back|rolled back/)
    expect(result.log).toMatch(/::error::Stack .* was rolled back/)
    const service = inspectService(lab, `${STACK}_web`)
    expect(service.UpdateStatus?.State).toBe('rollback_completed')
    expect(service.Spec.TaskTemplate.ContainerSpec.Image).toBe(secondImage)
    expect(result.summary).toContain('Failed tasks')
    // The failed containers' last log lines: httpd -v logged the healthcheck's 404s.
    expect(result.log).toMatch(/\| .*response:404/)
    expect(secretsIn(result)).toEqual([])
  })

  const stuckInputs = (stack: string, timeout: string): Record<string, string> => ({
    ...sshInputs(lab),
    ...registryInputs,
    registry: lab.registry,
    stack,
    'compose-file': 'unschedulable.yml',
    // A one-letter value (hardening item 2): without the length policy it would shred the scheduler's words.
    env: `BASE_IMAGE=${lab.registry}/lab/busybox:1\nSHORT_SECRET=o`,
    timeout
  })

  it('gives up on an unschedulable service at its timeout, quoting the scheduler', async () => {
    const result = await runAction(lab, stuckInputs(STUCK, '8s'))
    expectVerdict(result, 'non-zero', 'timed-out')
    expect(result.log).toContain('no suitable node')
    expect(result.log).toContain('::warning::env SHORT_SECRET: the value is shorter than 4 characters')
    expect(result.log).toMatch(/::error::Stack .* timed out/)
    // 8 s rollout deadline, plus connect and deploy.
    expect(result.seconds).toBeLessThan(25)
  })

  it('fails fast, long before a generous timeout, when no node can take a task', async () => {
    await removeStack(lab, STUCK)
    const result = await runAction(lab, stuckInputs(STUCK, '5m'))
    expectVerdict(result, 'non-zero', 'failed')
    expect(result.log).toMatch(/::error::Stack .* failed: .*no node can run it: no suitable node \(scheduling constraints not satisfied on 2 nodes\)/)
    // The grace period is 15 s; the 5 m deadline is never reached.
    expect(result.seconds).toBeLessThan(40)
  })

  // `docker stack deploy` waits as long as the manager lets it: a stand-in
  // CLI that hangs on it (every other command is the real one) must be
  // stopped at the deadline, and the run reported as timed out. The stand-in
  // is a shell whose child holds the output pipe, as a wrapper script would:
  // both must be stopped.
  it('stops a docker stack deploy that runs into the timeout and reports timed-out', async () => {
    const stack = `e2e-hang-${run}`
    const bin = mkdtempSync(path.join(os.tmpdir(), 'sd-hang-'))
    const pidFile = path.join(bin, 'stack-deploy.pid')
    const real = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim()
    const wrapper = `#!/bin/sh\nif [ "$1 $2" = "stack deploy" ]; then sleep 600 & echo "$$ $!" > ${pidFile}; wait; exit 1; fi\nexec ${real} "$@"\n`
    writeFileSync(path.join(bin, 'docker'), wrapper, { mode: 0o755 })
    const result = await runAction(lab, stuckInputs(stack, '10s'), { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } })
    expectVerdict(result, 'non-zero', 'timed-out')
    expect(result.log).toMatch(/::error::Stack e2e-hang-\w+ timed out: docker stack deploy did not finish within (9|10) s and was stopped\./)
    expect(result.summary).toContain('did not finish within')
    expect(result.seconds).toBeLessThan(30)
    // The hung command and its child were stopped, not left behind.
    const pids = readFileSync(pidFile, 'utf8').trim().split(' ')
    expect(pids).toEqual([expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)])
    // A killed process may linger a moment as a zombie until init reaps it.
    const alive = (pid: string): boolean => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
      } catch {
        return false
      }
    }
    expect(pids.filter(alive)).toEqual([])
    await removeStack(lab, stack)
  })

  it('refuses a manager whose host key does not match, before deploying anything', async () => {
    const stack = `e2e-hostkey-${run}`
    // The lab's real ed25519 host key with its last byte changed.
    const [hosts, type, key] = lab.knownHosts
      .split('\n')
      .find(l => l.includes(' ssh-ed25519 '))!
      .split(' ')
    const blob = Buffer.from(key!, 'base64')
    blob.writeUInt8(blob.readUInt8(blob.length - 1) ^ 0xff, blob.length - 1)
    const wrong = `${hosts} ${type} ${blob.toString('base64')}`
    const result = await runAction(lab, { ...sshInputs(lab), 'known-hosts': wrong, stack, 'compose-file': 'unschedulable.yml', env: 'BASE_IMAGE=x' })
    expect(result.code).not.toBe(0)
    expect(result.log).toMatch(/::error::ssh: the host key of 10\.77\.0\.2 \(SHA256:\S+\) does not match known-hosts/)
    expect(result.log).toContain('Nothing was deployed')
    expect(result.outputs.status).toBeUndefined()
    expect(stackExists(lab, stack)).toBe(false)
  })
})

describe('self-hosted runner on a manager', () => {
  const stack = `e2e-local-${run}`
  afterAll(() => removeStack(lab, stack))

  it("without host, builds and deploys through the runner's own engine, over no SSH", async () => {
    // The runner's Docker here is the manager's engine itself.
    const result = await runAction(
      lab,
      {
        'registry-username': lab.registryUser,
        'registry-password': lab.registryPassword,
        stack,
        image: `${lab.registry}/e2e/hello-local`,
        tags: `l1-${run}`,
        'build-args': 'VERSION=local',
        env: `DB_PASSWORD=${DB_PASSWORD}`,
        timeout: '2m'
      },
      { env: { DOCKER_HOST: lab.managerDockerHost } }
    )
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain("Docker engine reached through the runner's Docker engine")
    expect(result.log).toMatch(/Verdict converged after [\d.]+s: \d+ polls, \d+ API calls, no SSH connection\(s\)/)
    expect(inspectService(lab, `${stack}_web`).Spec.TaskTemplate.ContainerSpec.Image).toBe(result.outputs.image)
    expect(runningNodes(lab, `${stack}_web`)).toEqual([lab.managerNode, lab.workerNode].sort())
    expect(leaks([DB_PASSWORD, lab.registryPassword], { log: result.log, outputs: result.outputFile, summary: result.summary })).toEqual([])
  })
})

describe('more inputs', () => {
  const CONVERGE = path.join(APP, '../converge')
  const other = `e2e-inputs-${run}`
  const base = (): Record<string, string> => ({
    ...sshInputs(lab),
    ...registryInputs,
    registry: lab.registry,
    stack: other,
    env: `BASE_IMAGE=${lab.registry}/${lab.baseImage}`,
    timeout: '1m'
  })
  afterAll(() => removeStack(lab, other))

  it('pushes every tag and deploys the first, pinned', async () => {
    const result = await runAction(
      lab,
      { ...base(), 'compose-file': 'zero.yml', image: `${lab.registry}/e2e/hello-tags`, context: '../hello', tags: `t1-${run}\nt2-${run}` },
      { cwd: CONVERGE }
    )
    expect(result.code).toBe(0)
    expect(result.outputs.image).toMatch(new RegExp(`/e2e/hello-tags:t1-${run}@sha256:[0-9a-f]{64}$`))
    // Read from the registry itself (credentials in a header, not on a command line).
    const auth = Buffer.from(`${lab.registryUser}:${lab.registryPassword}`).toString('base64')
    const response = await fetch(`http://${lab.registry}/v2/e2e/hello-tags/tags/list`, { headers: { Authorization: `Basic ${auth}` } })
    const { tags } = (await response.json()) as { tags: string[] }
    expect(tags).toEqual(expect.arrayContaining([`t1-${run}`, `t2-${run}`]))
  })

  it('removes services no longer in the compose file only with prune: true', async () => {
    expect((await runAction(lab, { ...base(), 'compose-file': 'pair.yml' }, { cwd: CONVERGE })).code).toBe(0)
    const services = (): string[] => docker(lab, ['stack', 'services', other, '--format', '{{.Name}}']).trim().split('\n').sort()
    expect(services()).toEqual([`${other}_extra`, `${other}_idle`])

    expect((await runAction(lab, { ...base(), 'compose-file': 'zero.yml' }, { cwd: CONVERGE })).code).toBe(0)
    expect(services()).toEqual([`${other}_extra`, `${other}_idle`])

    const pruned = await runAction(lab, { ...base(), 'compose-file': 'zero.yml', prune: 'true' }, { cwd: CONVERGE })
    expect(pruned.code).toBe(0)
    expect(pruned.log).toContain(`Removing service ${other}_extra`)
    expect(services()).toEqual([`${other}_idle`])
  })

  it('connects without a host key check only when told to, with a loud warning', async () => {
    const { 'known-hosts': _ignored, ...withoutKnownHosts } = base()
    const result = await runAction(lab, { ...withoutKnownHosts, 'insecure-ignore-host-key': 'true', 'compose-file': 'zero.yml' }, { cwd: CONVERGE })
    expectVerdict(result, 0, 'converged')
    expect(result.log).toMatch(/::warning::insecure-ignore-host-key is true: the host key of 10\.77\.0\.2 \(SHA256:\S+\) was NOT verified/)
  })
})

describe('bad inputs fail fast, name the input, and deploy nothing', () => {
  const stack = `e2e-bad-${run}`
  it.each([
    ['missing stack', { stack: '' }, /::error::stack: is required/],
    ['stack with shell characters', { stack: 'x;touch /tmp/p' }, /::error::stack: 'x;touch \/tmp\/p' is not a valid stack name/],
    ['timeout in parsecs', { timeout: '5 parsecs' }, /::error::timeout: '5 parsecs' is not a duration like 90s, 5m or 1h/],
    ['env line without =', { env: 'GOOD=1\nthis-line-is-secret' }, /::error::env: line 2 has no '='/]
  ])('%s', async (_name, override, message) => {
    const result = await runAction(lab, { ...sshInputs(lab), stack, 'compose-file': 'unschedulable.yml', env: 'BASE_IMAGE=x', ...override })
    expect(result.code).toBe(1)
    expect(result.log).toMatch(message)
    // Refused before any connection (no phase began); the bound only rules out a connect timeout, not a speed (CI: 1.06 s under load).
    expect(result.seconds).toBeLessThan(10)
    expect(result.log).not.toContain('this-line-is-secret')
    expect(result.log).not.toContain('::group::')
    expect(stackExists(lab, stack)).toBe(false)
    expect(existsSync('/tmp/p')).toBe(false)
  })
})

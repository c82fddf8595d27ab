// Hardening items 6, 7 and 12 on the lab swarm: the environment every docker
// child gets (read from /proc/<pid>/environ of each, build included), workflow
// commands a Dockerfile prints, a cancel (SIGINT) during the wait, and the
// post step after a main step that was killed outright.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Lab } from './harness.js'
import { docker, expectVerdict, inspectService, loadLab, removeStack, runAction, runPost, sshInputs, startAction } from './harness.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
const BUILT = `e2e-hard-${run}`
const SLOW = `e2e-cancel-${run}`
const DB_PASSWORD = `hard-db-${run}-password`

let lab: Lab
let registryInputs: Record<string, string>

beforeAll(() => {
  lab = loadLab()
  registryInputs = { 'registry-username': lab.registryUser, 'registry-password': lab.registryPassword }
})

afterAll(async () => {
  await removeStack(lab, BUILT)
  await removeStack(lab, SLOW)
})

/** Lines the runner would run as workflow commands: those outside every ::stop-commands:: window. */
function commandLines(stdout: string): string[] {
  const commands: string[] = []
  let token: string | undefined
  for (const line of stdout.split('\n')) {
    if (token !== undefined) {
      if (line === `::${token}::`) token = undefined
      continue
    }
    const start = /^::stop-commands::(.+)$/.exec(line)
    if (start) token = start[1]
    else if (line.startsWith('::')) commands.push(line)
  }
  return commands
}

/** Every process below `root` (by parent pid), read from /proc. */
function descendants(root: number): number[] {
  const parents = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // ended meanwhile
    }
  }
  const found: number[] = []
  const walk = (pid: number): void => {
    for (const [child, parent] of parents) {
      if (parent !== pid) continue
      found.push(child)
      walk(child)
    }
  }
  walk(root)
  return found
}

/** A process that still runs (a zombie waiting to be reaped does not). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))
  } catch {
    return false
  }
}

/** Every file and folder below a folder. */
function entriesBelow(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true }) as string[]
  } catch {
    return []
  }
}

describe('children and their output', () => {
  it('starts every docker child without a secret in its environment, and no Dockerfile line reaches the runner as a command', async () => {
    const context = mkdtempSync(path.join(os.tmpdir(), 'sd-hard-app-'))
    writeFileSync(
      path.join(context, 'Dockerfile'),
      [
        'ARG BASE=lab/busybox:1',
        'FROM ${BASE}',
        'RUN echo "::set-output name=injected::from-the-dockerfile" && echo "::add-mask::injected-mask" && echo "::error::injected-error" && echo "::stop-commands::guess"',
        'CMD ["sleep", "3600"]',
        ''
      ].join('\n')
    )
    writeFileSync(
      path.join(context, 'stack.yml'),
      [
        'services:',
        '  app:',
        '    image: ${IMAGE}',
        '    init: true',
        '    secrets: [db_password]',
        '    deploy:',
        '      replicas: 1',
        'secrets:',
        '  db_password:',
        '    environment: DB_PASSWORD',
        ''
      ].join('\n')
    )
    // A docker that writes its own environment (that of the docker process it execs into) to a file, one per run.
    const bin = mkdtempSync(path.join(os.tmpdir(), 'sd-hard-bin-'))
    const real = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim()
    writeFileSync(path.join(bin, 'docker'), `#!/bin/sh\ncat /proc/$$/environ > ${bin}/environ-$$-$1\nexec ${real} "$@"\n`, { mode: 0o755 })

    const result = await runAction(
      lab,
      {
        ...sshInputs(lab),
        ...registryInputs,
        stack: BUILT,
        'compose-file': 'stack.yml',
        image: `${lab.registry}/e2e/hardening`,
        tags: `h1-${run}`,
        env: `DB_PASSWORD=${DB_PASSWORD}`,
        timeout: '2m'
      },
      { cwd: context, env: { PATH: `${bin}:${process.env.PATH ?? ''}` } }
    )
    expectVerdict(result, 0, 'converged')

    // 7. Each docker child's environment: no input's variable, no secret; only stack deploy has the env values.
    const environs = readdirSync(bin).filter(name => name.startsWith('environ-'))
    const kinds = environs.map(name => name.split('-')[2])
    // A runner with buildx (the lab on engine 28, GitHub's) builds and pushes with `docker buildx build --push`.
    const builder = result.log.includes('[command]docker buildx build') ? 'buildx' : 'build'
    expect(kinds).toEqual(expect.arrayContaining(['login', ...(builder === 'buildx' ? ['buildx'] : ['build', 'push']), 'image', 'stack']))
    const keyLines = readFileSync(lab.sshKeyFile, 'utf8')
      .split('\n')
      .filter(line => line.length > 20 && !line.startsWith('-----'))
    for (const name of environs) {
      const environ = readFileSync(path.join(bin, name), 'latin1')
      const variables = environ
        .split('\0')
        .filter(Boolean)
        .map(entry => entry.slice(0, entry.indexOf('=')))
      expect(`${name}: ${variables.filter(v => v.startsWith('INPUT_') || v.startsWith('GITHUB_') || v.startsWith('RUNNER_'))}`).toBe(`${name}: `)
      expect(`${name}: ${environ.includes(lab.registryPassword)}`).toBe(`${name}: false`)
      for (const line of keyLines) expect(`${name}: ${environ.includes(line)}`).toBe(`${name}: false`)
      expect(`${name}: ${environ.includes(DB_PASSWORD)}`).toBe(`${name}: ${name.endsWith('-stack')}`)
    }
    // The build children's own environment, read while they ran.
    for (const name of environs.filter(name => name.endsWith(`-${builder}`))) {
      const build = readFileSync(path.join(bin, name), 'latin1').split('\0')
      expect(build).toEqual(expect.arrayContaining([expect.stringMatching(/^DOCKER_CONFIG=.*\/sd-[^/]+\/docker$/), `DOCKER_HOST=${lab.runnerDockerHost}`]))
    }

    // 12. The Dockerfile's workflow commands are in the log, but only inside a stop-commands window.
    expect(result.stdout).toContain('::set-output name=injected::from-the-dockerfile')
    expect(result.stdout).toContain('::error::injected-error')
    const commands = commandLines(result.stdout)
    expect(commands.filter(line => line.includes('injected') || line.includes('guess'))).toEqual([])
    expect(commands).toContain(`::group::Build and push ${lab.registry}/e2e/hardening`)
    expect(result.outputs.injected).toBeUndefined()
  })
})

describe('cancel', () => {
  // Two replicas updated one at a time with 15 s between them: the wait lasts long enough to cancel it.
  const compose = (dir: string): string => {
    writeFileSync(
      path.join(dir, 'slow.yml'),
      [
        'services:',
        '  app:',
        '    image: ${BASE_IMAGE}',
        '    command: ["sleep", "3600"]',
        '    init: true',
        '    environment:',
        '      ROUND: ${ROUND}',
        '    deploy:',
        '      replicas: 2',
        '      update_config: {parallelism: 1, delay: 15s, order: start-first, monitor: 1s}',
        ''
      ].join('\n')
    )
    return dir
  }
  const app = (): string => compose(mkdtempSync(path.join(os.tmpdir(), 'sd-cancel-app-')))
  const slowInputs = (round: string): Record<string, string> => ({
    ...registryInputs,
    registry: lab.registry,
    stack: SLOW,
    'compose-file': 'slow.yml',
    env: `BASE_IMAGE=${lab.registry}/${lab.baseImage}\nROUND=${round}`,
    timeout: '3m'
  })
  // Local mode: the runner's engine is the manager's, so the tunnel's dial-stdio children run on this machine.
  const local = (): { env: Record<string, string> } => ({ env: { DOCKER_HOST: lab.managerDockerHost } })

  it('on SIGINT during the wait exits within 5 s with status cancelled, leaves no file and no child, and the swarm keeps rolling out', async () => {
    const dir = app()
    expectVerdict(await runAction(lab, slowInputs(`first-${run}`), { cwd: dir, ...local() }), 0, 'converged')

    const pending = startAction(lab, slowInputs(`second-${run}`), { cwd: dir, ...local() })
    await pending.printed('::group::Wait for the rollout')
    await new Promise(resolve => setTimeout(resolve, 1_000))
    const children = descendants(pending.child.pid!)
    expect(children.length).toBeGreaterThan(0)
    const signalled = Date.now()
    pending.child.kill('SIGINT')
    const result = await pending.done
    expect(Date.now() - signalled).toBeLessThan(5_000)
    expect(result.code).toBe(1)
    expect(result.outputs.status).toBe('cancelled')
    expect(result.log).toMatch(/::warning::Cancelled \(SIGINT\): stopping the docker commands and removing this run's files/)
    expect(result.log).toContain('::error::The run was cancelled (SIGINT) before it had a verdict')
    // No file of the work dir (the throwaway DOCKER_CONFIG, the socket), no compose copy.
    expect(entriesBelow(result.runnerTemp)).toEqual([])
    expect(readdirSync(dir)).toEqual(['slow.yml'])
    // No child left (dial-stdio processes of the tunnel).
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(children.filter(running)).toEqual([])

    // Nothing stopped or rolled back the update: Swarm completes it.
    let state: string | undefined
    for (let i = 0; i < 120 && state !== 'completed'; i++) {
      state = inspectService(lab, `${SLOW}_app`).UpdateStatus?.State
      if (state !== 'completed') await new Promise(resolve => setTimeout(resolve, 1_000))
    }
    expect(state).toBe('completed')
    const env = inspectService(lab, `${SLOW}_app`).Spec.TaskTemplate.ContainerSpec.Env ?? []
    expect(env).toContain(`ROUND=second-${run}`)
    expect(
      docker(lab, ['service', 'ps', `${SLOW}_app`, '--filter', 'desired-state=running', '--format', '{{.CurrentState}}'])
        .trim()
        .split('\n')
    ).toEqual([expect.stringMatching(/^Running /), expect.stringMatching(/^Running /)])
  })

  it('the post step removes the work dir a SIGKILLed main step left', async () => {
    const dir = app()
    const pending = startAction(lab, { ...sshInputs(lab), ...slowInputs(`third-${run}`) }, { cwd: dir })
    await pending.printed('::group::Wait for the rollout')
    pending.child.kill('SIGKILL')
    const killed = await pending.done
    expect(killed.code).toBeNull()
    // Killed outright: its work dir, with the registry login in it, is still there, and recorded.
    const [left] = readdirSync(killed.runnerTemp)
    expect(left).toMatch(/^sd-/)
    expect(readFileSync(path.join(killed.runnerTemp, left!, 'docker', 'config.json'), 'utf8')).toContain(lab.registry)
    expect(JSON.parse(killed.state.leftovers!)).toEqual([path.join(killed.runnerTemp, left!)])
    expect(killed.state.isPost).toBe('true')

    const post = await runPost(killed)
    expect(post.code).toBe(0)
    expect(post.log).toContain(`Removed what the main step left: ${path.join(killed.runnerTemp, left!)}`)
    expect(entriesBelow(killed.runnerTemp)).toEqual([])
    // The post step deploys nothing (it only connects to mark the release cancelled and let go of the deploy lock): no group.
    expect(post.log).not.toContain('::group::')
  })
})

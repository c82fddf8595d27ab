// The smoke check on the lab: busybox httpd on a host-mode port of the
// manager (10.77.0.2), which the runner (this host) reaches. A first release
// answers 200 and converges with the check passing; a second whose path
// answers 404 is not converged: `failed`, or with on-failure: rollback-stack
// `rolled-back` with the first release live again. The two stacks run side by
// side, on ports no other test publishes.
import { afterAll, describe, expect, it, jest } from '@jest/globals'
import * as path from 'node:path'
import { docker, expectVerdict, inspectService, leaks, loadLab, removeStack, ROOT, runAction, runCli, sshInputs, releaseRecords } from './harness.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
const FAILS = `smoke-f-${run}`
const BACK = `smoke-b-${run}`
// examples/smoke/port-a.yml and port-b.yml publish them.
const PORTS = { [FAILS]: 18731, [BACK]: 18732 }
const PORT_FILE = { [FAILS]: 'port-a.yml', [BACK]: 'port-b.yml' }
const SITE = path.join(ROOT, 'examples/smoke')
const GREETING = `smoke-greeting-${run}`
const URL_PASSWORD = `smoke-pw-${run}`
const URL_TOKEN = `smoke-token-${run}`

// Read at load time: jest starts concurrent tests before beforeAll hooks run.
const lab = loadLab()
const url = (stack: string): string => `http://${lab.sshHost}:${PORTS[stack]}/index.html`

afterAll(async () => {
  await Promise.all([removeStack(lab, FAILS), removeStack(lab, BACK)])
})

function inputs(stack: string, files: string[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...sshInputs(lab),
    stack,
    'compose-file': ['site.yml', PORT_FILE[stack] ?? 'port-a.yml', ...files].join('\n'),
    env: `BASE_IMAGE=${lab.registry}/lab/busybox:1\nGREETING=${GREETING}`,
    registry: lab.registry,
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    'smoke-url': url(stack),
    'smoke-timeout': '6s',
    timeout: '2m',
    ...extra
  }
}

const container = (stack: string) => inspectService(lab, `${stack}_web`).Spec.TaskTemplate.ContainerSpec
const releaseStatuses = (stack: string): string[] => releaseRecords(lab, stack).map(r => `#${r.number} ${r.status}`)

const answer = async (stack: string): Promise<number> => (await fetch(url(stack), { signal: AbortSignal.timeout(5_000) })).status

describe('smoke-url', () => {
  it.concurrent('a release that answers 200 converges; one whose URL answers 404 fails, with the status and a redacted body excerpt', async () => {
    // The URL carries a password and a token; busybox httpd ignores both.
    const secretUrl = url(FAILS).replace('http://', `http://probe:${URL_PASSWORD}@`) + `?token=${URL_TOKEN}`
    const shown = `http://***@${lab.sshHost}:${PORTS[FAILS]}/index.html?token=***`
    const good = await runAction(lab, inputs(FAILS, [], { 'smoke-url': secretUrl }), { cwd: SITE })
    expectVerdict(good, 0, 'converged')
    expect(good.log).toContain(`Smoke check passed: ${shown} 200`)
    expect(good.summary).toMatch(/### Smoke check: ✅ passed after/)

    const bad = await runAction(lab, inputs(FAILS, ['broken.yml'], { 'smoke-url': secretUrl }), { cwd: SITE })
    expectVerdict(bad, 'non-zero', 'failed')
    expect(bad.log).toMatch(new RegExp(`::error::Stack ${FAILS} converged, but the smoke check failed after \\d+s: GET \\S+ answered 404`))
    expect(bad.log).toMatch(/Smoke check: 0\/1 pass; \S+ 404 \(\d+s left\)/)
    expect(bad.log).toContain(`Smoke check failed: GET ${shown} answered 404 (expected 200-399;`)
    // The error page quotes GREETING, an env value: the excerpt shows it redacted.
    expect(bad.log).toContain('    body: not here; greeting ***')
    expect(bad.summary).toMatch(/### Smoke check: ❌ failed after \d+\.\ds \(expected 200-399\)/)
    expect(bad.summary).toContain('answered 404 (expected 200-399;')
    expect(bad.summary).toContain('  - body: `not here; greeting ***`')
    // The failed release is not the live one; the swarm runs it, as on-failure: swarm leaves it.
    expect(releaseStatuses(FAILS)).toEqual(['#1 converged', '#2 failed'])
    expect(bad.outputs).toMatchObject({ release: '1', 'previous-release': '1' })
    expect(container(FAILS).Env).toContain('VERSION=2')
    expect(await answer(FAILS)).toBe(404)
    // The rollout converged, so no task failed: no Diagnostics phase with nothing to show.
    expect(bad.log).not.toMatch(/::group::Diagnostics|No failed task/)
    for (const result of [good, bad]) {
      expect(leaks([URL_PASSWORD, URL_TOKEN, GREETING], { log: result.log, summary: result.summary, outputs: result.outputFile })).toEqual([])
    }
  })

  it.concurrent('with on-failure: rollback-stack, the release that answered 200 is live again (the first deploy from the CLI)', async () => {
    const connection = ['--host', lab.sshHost, '--port', String(lab.sshPort), '--user', lab.sshUser, '--ssh-key-file', lab.sshKeyFile]
    const cli = await runCli(
      lab,
      [
        '--stack',
        BACK,
        '--compose-file',
        'site.yml',
        '--compose-file',
        PORT_FILE[BACK]!,
        '--smoke-url',
        url(BACK),
        '--smoke-expect',
        '200',
        '--smoke-timeout',
        '20s',
        '--registry',
        lab.registry,
        '--registry-username',
        lab.registryUser,
        '--known-hosts',
        lab.knownHosts,
        '--json',
        ...connection
      ],
      {
        cwd: SITE,
        env: {
          SWARM_DEPLOY_ENV: `BASE_IMAGE=${lab.registry}/lab/busybox:1\nGREETING=${GREETING}`,
          SWARM_DEPLOY_REGISTRY_PASSWORD: lab.registryPassword
        }
      }
    )
    // With --json the log is on stderr, the result on stdout.
    expect({ code: cli.code, tail: cli.stderr.slice(-1500) }).toMatchObject({ code: 0 })
    expect(cli.stderr).toContain(`Smoke check passed: ${url(BACK)} 200`)
    expect(cli.stderr).toMatch(/Smoke check: passed after \d+\.\ds \(expected 200\)/)
    const json = JSON.parse(cli.stdout) as {
      status: string
      smoke: Array<{ title: string; result: { passed: boolean; urls: Array<{ url: string; status: number }> } }>
    }
    expect(json.status).toBe('converged')
    expect(json.smoke.map(s => [s.title, s.result.passed, s.result.urls.map(u => [u.url, u.status])])).toEqual([['Smoke check', true, [[url(BACK), 200]]]])
    const before = container(BACK)

    const result = await runAction(lab, inputs(BACK, ['broken.yml'], { 'on-failure': 'rollback-stack' }), { cwd: SITE })
    expectVerdict(result, 'non-zero', 'rolled-back')
    expect(result.log).toMatch(new RegExp(`Stack ${BACK} failed: putting release #1 back for every service`))
    expect(result.log).toContain(`Smoke check passed: ${url(BACK)} 200`)
    expect(result.summary).toMatch(/### Smoke check: ❌ failed/)
    expect(result.summary).toMatch(/### Smoke check of release #1, put back: ✅ passed/)
    expect(result.summary).toContain('### The deploy that was undone: ❌ failed')
    const after = container(BACK)
    expect(after.Image).toBe(before.Image)
    expect(after.Env).toContain('VERSION=1')
    expect(after.Env).toContain('DOC_ROOT=/www')
    expect(await answer(BACK)).toBe(200)
    expect(releaseStatuses(BACK)).toEqual(['#1 converged', '#2 rolled-back', '#3 converged'])
    expect(result.outputs).toMatchObject({ release: '3', 'previous-release': '1' })
    expect(leaks([GREETING], { log: result.log + cli.stdout + cli.stderr, summary: result.summary })).toEqual([])
  })

  it('refuses a bad smoke-url, smoke-expect or smoke-timeout before anything is done', async () => {
    const stack = `smoke-x-${run}`
    for (const [input, value, message] of [
      ['smoke-url', 'ftp://files.example/x', 'smoke-url: item 1 is a ftp URL'],
      ['smoke-expect', '399-200', "smoke-expect: '399-200' is a range that ends before it starts"],
      ['smoke-timeout', 'soon', "smoke-timeout: 'soon' is not a duration"]
    ] as const) {
      const result = await runAction(lab, inputs(stack, [], { [input]: value }), { cwd: SITE })
      expect(result.code).not.toBe(0)
      expect(result.log).toContain(`::error::${message}`)
      expect(result.log).not.toContain('Connect')
    }
    expect(docker(lab, ['stack', 'ls', '--format', '{{.Name}}']).split('\n')).not.toContain(stack)
  })
})

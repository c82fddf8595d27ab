import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as YAML from 'yaml'
import { envName, helpText, parseCommandLine } from '../../../src/cli/args.js'
import { cliMain, jsonText } from '../../../src/cli/main.js'
import type { CliControl } from '../../../src/cli/main.js'
import { terminalReporter } from '../../../src/cli/terminal.js'
import { INPUTS, OUTPUTS } from '../../../src/inputs/table.js'
import { COMPOSE, DB_PASSWORD, fakeWorld, PINNED } from '../../support/fake-world.js'
import { readAsRunner } from '../../support/runner-reading.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const files: Record<string, string> = {
  'key.pem': 'PRIVATE KEY TEXT\n',
  'deploy.yml': 'stack: shop\ncompose-file: [a.yml, b.yml]\nprune: true\ntimeout: 90s\n'
}
const sources = (env: Record<string, string> = {}) => ({ env, readFile: (file: string) => files[file] })

describe('action.yml and the input table', () => {
  const action = YAML.parse(readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { description: string; default?: string; required?: boolean }>
    outputs: Record<string, { description: string }>
  }
  it('list the same inputs, descriptions, defaults and required flags, in order', () => {
    const fromYaml = Object.entries(action.inputs).map(([name, v]) => ({ name, description: v.description, default: v.default, required: v.required === true }))
    const fromTable = INPUTS.map(s => ({ name: s.name, description: s.description, default: s.default, required: s.required === true }))
    expect(fromTable).toEqual(fromYaml)
  })
  it('list the same outputs', () => {
    expect(OUTPUTS).toEqual(Object.entries(action.outputs).map(([name, v]) => ({ name, description: v.description })))
  })
  it('--help names every input and output', () => {
    const help = helpText()
    for (const spec of INPUTS) expect(help).toContain(spec.secret ? envName(spec.name) : `--${spec.name} `)
    for (const output of OUTPUTS) expect(help).toContain(output.name)
    expect(help).toContain('--ssh-key-file FILE')
    expect(help).toContain('--registry-password-file FILE')
  })
})

describe('parseCommandLine', () => {
  it('reads flags, repeated flags as lines, booleans, env variables, --config and defaults, in that order of precedence', () => {
    const line = parseCommandLine(
      ['--stack', 'web', '--tags', 'v1', '--tags=latest', '--prune', '--config', 'deploy.yml', '--json'],
      sources({ SWARM_DEPLOY_TIMEOUT: '5m', SWARM_DEPLOY_SSH_KEY: 'KEY' })
    )
    expect(line.read('stack')).toBe('web')
    expect(line.read('tags')).toBe('v1\nlatest')
    expect(line.read('prune')).toBe('true')
    expect(line.read('timeout')).toBe('5m')
    expect(line.read('compose-file')).toBe('a.yml\nb.yml')
    expect(line.read('ssh-key')).toBe('KEY')
    expect(line.read('port')).toBe('22')
    expect(line.read('rollback-on-failure')).toBe('true')
    expect(line.json).toBe(true)
    expect(parseCommandLine(['--no-rollback-on-failure', '--stack', 'x'], sources()).read('rollback-on-failure')).toBe('false')
    expect(parseCommandLine(['--prune', 'false'], sources()).read('prune')).toBe('false')
  })

  it('reads secrets from files', () => {
    expect(parseCommandLine(['--ssh-key-file', 'key.pem'], sources({ SWARM_DEPLOY_SSH_KEY: 'from env' })).read('ssh-key')).toBe('PRIVATE KEY TEXT\n')
    expect(() => parseCommandLine(['--ssh-key-file', 'nope.pem'], sources())).toThrow("ssh-key-file: 'nope.pem' cannot be read")
  })

  it.each([
    [['--ssh-key', 'SECRET-VALUE'], /^ssh-key: is refused as a command-line flag: .* SWARM_DEPLOY_SSH_KEY or with --ssh-key-file FILE$/],
    [['--registry-password=SECRET-VALUE'], /^registry-password: is refused as a command-line flag: .*--registry-password-file FILE$/],
    [['--env', 'A=SECRET-VALUE'], /^env: is refused as a command-line flag: .*SWARM_DEPLOY_ENV or with --env-file FILE/],
    [
      ['--ssh-key-passphrase', 'SECRET-VALUE'],
      /^ssh-key-passphrase: is refused as a command-line flag: .*SWARM_DEPLOY_SSH_KEY_PASSPHRASE or with --ssh-key-passphrase-file FILE$/
    ],
    [['--jump-ssh-key', 'SECRET-VALUE'], /^jump-ssh-key: is refused as a command-line flag: .*SWARM_DEPLOY_JUMP_SSH_KEY or with --jump-ssh-key-file FILE$/],
    [['--stack', 'a', '--stack', 'b'], /^stack: is given more than once$/],
    [['--stak', 'SECRET-VALUE'], /^unknown option --stak \(see --help\)$/],
    [['SECRET-VALUE'], /^unexpected argument #1/],
    [['--stack'], /^--stack needs a value$/]
  ])('refuses %p without quoting a value', (argv, message) => {
    let error: Error | undefined
    try {
      parseCommandLine(argv, sources())
    } catch (caught) {
      error = caught as Error
    }
    expect(error?.message).toMatch(message)
    expect(error?.message).not.toContain('SECRET-VALUE')
  })

  it('refuses secrets in --config', () => {
    files['secret.yml'] = 'stack: web\nregistry-password: SECRET-VALUE\n'
    expect(() => parseCommandLine(['--config', 'secret.yml'], sources())).toThrow(/^registry-password: is refused in --config secret\.yml/)
    files['unknown.yml'] = 'stak: web\n'
    expect(() => parseCommandLine(['--config', 'unknown.yml'], sources())).toThrow("--config: unknown.yml has 'stak', which is not an input")
  })
})

describe('cliMain', () => {
  const run = async (argv: string[], env: Record<string, string> = {}, control: CliControl = {}) => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    fake.files.set('Dockerfile', 'FROM scratch\n')
    const host = { ...fake.host, env: { ...fake.host.env, ...env } }
    let stdout = ''
    let stderr = ''
    const code = await cliMain(argv, { stdout: t => void (stdout += t), stderr: t => void (stderr += t) }, host, fake.adapters, control)
    return { code, stdout, stderr, effects: fake.effects, env: host.env }
  }
  const deployArgs = ['--stack', 'shop', '--image', 'registry.example.com:5000/acme/shop', '--tags', 'v1', '--registry-username', 'ci']
  const secretEnv = { SWARM_DEPLOY_REGISTRY_PASSWORD: 'registry-pw', SWARM_DEPLOY_ENV: `DB_PASSWORD=${DB_PASSWORD}` }

  it.each([[[]], [['--json']]])('prints a failed task and its log from the swarm as text, no workflow command (%j)', async extra => {
    const fake = fakeWorld({
      scenario: 'crash',
      taskError: 'task: non-zero exit (3)\r::error title=Deploy OK::forged',
      logText: 'boom\r::add-mask::forged-mask\r::stop-commands::x\n\u2028##[error]legacy\n'
    })
    fake.files.set('docker-compose.yml', COMPOSE)
    fake.files.set('Dockerfile', 'FROM scratch\n')
    let printed = ''
    const io = { stdout: (t: string) => void (printed += t), stderr: (t: string) => void (printed += t) }
    const code = await cliMain([...deployArgs, ...extra], io, { ...fake.host, env: { ...fake.host.env, ...secretEnv } }, fake.adapters)
    expect(code).toBe(1)
    expect(readAsRunner(printed).commands).toEqual([])
    expect(printed).toContain('::add-mask::forged-mask')
    expect(printed).toContain('title=Deploy OK::forged')
  })

  it('deploys, prints one line per phase with its duration, and no workflow command or secret', async () => {
    const result = await run(deployArgs, secretEnv)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^✔ Build and push registry\.example\.com:5000\/acme\/shop \(\d+\.\ds\)$/m)
    expect(result.stdout).toMatch(/^✔ Wait for the rollout \(\d+\.\ds\)$/m)
    expect(result.stdout).toMatch(/^Stack shop: converged$/m)
    expect(result.stdout).toMatch(/^ {2}mgr: shop_web\.1 running$/m)
    expect(result.stdout.split('\n').filter(l => l.startsWith('::'))).toEqual([])
    expect(result.stdout + result.stderr).not.toContain(DB_PASSWORD)
    expect(result.stdout + result.stderr).not.toContain('registry-pw')
  })

  it('--json prints the outputs and stats as one object on stdout, the log on stderr', async () => {
    const result = await run([...deployArgs, '--json'], secretEnv)
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout) as Record<string, unknown>
    expect(json).toMatchObject({ status: 'converged', image: PINNED, digest: expect.stringMatching(/^sha256:/), exitCode: 0, error: null })
    expect(json.services).toEqual([expect.objectContaining({ name: 'shop_web', state: 'converged' })])
    expect(json.stats).toMatchObject({ polls: expect.any(Number), sshConnections: 1 })
    expect(result.stderr).toContain('✔ Connect')
  })

  it('--json has the smoke check: each URL as shown, its last status and a redacted excerpt', async () => {
    const fake = fakeWorld()
    fake.files.set('docker-compose.yml', COMPOSE)
    fake.files.set('Dockerfile', 'FROM scratch\n')
    fake.adapters.smokeGet = async () => ({ status: 404, body: `Not Found: ${DB_PASSWORD}` })
    const env = { ...secretEnv, SWARM_DEPLOY_SMOKE_URL: 'http://shop.example.test/health?token=tok-smoke-7d3f9a2b', SWARM_DEPLOY_SMOKE_TIMEOUT: '5s' }
    const host = { ...fake.host, env: { ...fake.host.env, ...env } }
    let stdout = ''
    const code = await cliMain([...deployArgs, '--json'], { stdout: t => void (stdout += t), stderr: () => undefined }, host, fake.adapters)
    expect({ code, stdout: code === 1 ? '' : stdout }).toEqual({ code: 1, stdout: '' })
    const json = JSON.parse(stdout) as { status: string; smoke: Array<{ title: string; result: { passed: boolean; urls: Array<Record<string, unknown>> } }> }
    expect(json.status).toBe('failed')
    expect(json.smoke).toEqual([
      {
        title: 'Smoke check',
        result: expect.objectContaining({
          passed: false,
          expect: '200-399',
          urls: [expect.objectContaining({ url: 'http://shop.example.test/health?token=***', passed: false, status: 404, excerpt: 'Not Found: ***' })]
        })
      }
    ])
    expect(stdout).not.toContain('tok-smoke-7d3f9a2b')
    expect(stdout).not.toContain(DB_PASSWORD)
  })

  it('--json stays JSON when a secret is made of digits: strings are redacted, numbers are not', () => {
    const redact = (text: string): string => text.split('1234').join('***')
    const text = jsonText({ startedAt: 1234567, error: { message: 'token 1234 refused' }, phases: [{ title: 'Connect', ms: 1234 }] }, redact)
    expect(JSON.parse(text)).toEqual({ startedAt: 1234567, error: { message: 'token *** refused' }, phases: [{ title: 'Connect', ms: 1234 }] })
    expect(text).not.toContain('1234 refused')
  })

  it('on a signal stops, cleans up, exits 1 and reports status cancelled', async () => {
    let cleaned = 0
    const result = await run([...deployArgs, '--json'], secretEnv, { signalled: Promise.resolve('SIGINT'), cleanUp: async () => void (cleaned += 1) })
    expect(result.code).toBe(1)
    expect(cleaned).toBe(1)
    expect(result.stderr).toContain('Cancelled (SIGINT): stopping the docker commands')
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'cancelled', error: { kind: 'cancelled' }, exitCode: 1 })
  })

  it('drops the secret SWARM_DEPLOY_* variables (smoke-url too) from the environment once read', async () => {
    const forgotten: string[] = []
    const result = await run(deployArgs, secretEnv, { forgetEnv: names => void forgotten.push(...names) })
    expect(result.code).toBe(0)
    expect(forgotten).toEqual([
      'SWARM_DEPLOY_SSH_KEY',
      'SWARM_DEPLOY_SSH_KEY_PASSPHRASE',
      'SWARM_DEPLOY_JUMP_SSH_KEY',
      'SWARM_DEPLOY_REGISTRY_PASSWORD',
      'SWARM_DEPLOY_ENV',
      'SWARM_DEPLOY_RELEASE_KEY',
      'SWARM_DEPLOY_GITHUB_TOKEN',
      'SWARM_DEPLOY_SMOKE_URL'
    ])
  })

  it('exits 2 on bad input, naming it, with nothing done', async () => {
    const result = await run(['--stack', 'shop', '--timeout', '5 parsecs', '--json'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("timeout: '5 parsecs' is not a duration like 90s, 5m or 1h")
    expect(JSON.parse(result.stdout)).toMatchObject({ status: null, error: { kind: 'input' }, exitCode: 2 })
    expect(result.effects).toEqual([])
    const flag = await run(['--stack', 'shop', '--ssh-key', 'SECRET-VALUE'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toMatch(/ssh-key: is refused as a command-line flag/)
    expect(flag.stdout + flag.stderr).not.toContain('SECRET-VALUE')
  })

  it('exits 2 when the plan finds a problem, and names it', async () => {
    const result = await run(['--stack', 'shop', '--image', 'registry.example.com:5000/acme/shop', '--tags', 'v1'])
    expect(result.code).toBe(2)
    expect(result.stdout).toMatch(/error: compose-file: docker-compose\.yml line 5 uses \$\{DB_PASSWORD\}, which is not set/)
    expect(result.effects).toEqual([])
  })
})

describe('terminalReporter', () => {
  it('redacts every line, even a secret split across chunks, and never starts a line with ::', async () => {
    let text = ''
    const reporter = terminalReporter(t => void (text += t), { verbose: true, now: () => 0 })
    reporter.secret('s3cret-value\nsecond-line')
    await reporter.phase('Build', async () => {
      reporter.command(['docker', 'build', '.'])
      reporter.stream(Buffer.from('step 1 s3cr'), 'stdout')
      reporter.stream(Buffer.from('et-value done\nsecond-line\n'), 'stdout')
      reporter.info('from swarm: s3cret-value')
    })
    reporter.warn('careful')
    reporter.print('::error::not a workflow command')
    expect(text).not.toContain('s3cret')
    expect(text).not.toContain('second-line')
    expect(text).toContain('| step 1 *** done')
    expect(text).toContain('✔ Build (0.0s)')
    expect(text).toContain('warning: careful')
    expect(text.split('\n').filter(l => l.startsWith('::'))).toEqual([])
  })

  it('prints no workflow command the runner would read, indented or split by \\r, and keeps the text', async () => {
    let text = ''
    const reporter = terminalReporter(t => void (text += t), { verbose: true, now: () => 0 })
    await reporter.phase('Diagnostics', async () => {
      // Indented beneath the phase: the runner trims the indentation.
      reporter.info('::error title=Deploy OK::forged')
      reporter.info('    | boom\r::add-mask::hunter22\r::stop-commands::x')
      reporter.info('node \u2028::warning::sep ##[error]legacy \u202eevil')
      reporter.stream(Buffer.from('\u0085::set-output name=a::b\n'), 'stderr')
    })
    reporter.print('\t::notice::x')
    expect(readAsRunner(text).commands).toEqual([])
    expect(text).toContain('title=Deploy OK::forged')
    expect(text).toContain('boom::add-mask::hunter22::stop-commands::x')
    expect(text).not.toMatch(/[\r\u2028\u202e\u0085]/)
  })
})

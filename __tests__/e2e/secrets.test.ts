// Secrets done right, on the lab swarm: awkward values reach the stack byte
// for byte and nowhere else (no log, output, summary, debug line, process
// command line or leftover file); GitHub secrets become swarm secrets; a
// changed config rolls out as a new version and the old one is pruned; a
// referenced but missing variable stops the deploy before any change.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ActionRun, Lab } from './harness.js'
import { docker, expectVerdict, inspectService, leaks, loadLab, removeStack, ROOT, runAction, sshInputs, stackExists } from './harness.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
const STACK = `e2e-sec-${run}`
const MISSING = `e2e-sec-missing-${run}`

// One distinctive value per awkward shape, so a leak of any is found.
const VALUES: Record<string, string> = {
  V1: `q-${run}-'single'`,
  V2: `dq-${run}-"double"`,
  V3: `dollar-${run}-$HOME-$$`,
  V4: `subst-${run}-$(id)`,
  V5: `tick-${run}-\`id\``,
  V6: `nl-${run}-\\n-not-a-newline`,
  V7: `eq-${run}-a=b=c`,
  V8: `-dash-${run}`,
  V9: `unicode-${run}-ünïcødé-✓-日本`,
  V10: `big-${run}-${randomBytes(75_000).toString('base64')}`,
  V11: 'true'
}
const DB_PASSWORD = `db-${run}-'"$(id)\`x\`=ü`
// A 20 KB swarm secret, never in the service environment. (With the 100 KB V10,
// INPUT_ENV stays under Linux's 128 KB limit for one environment string.)
const BIG_SECRET = `bigsecret-${run}-${randomBytes(15_000).toString('base64')}`

let lab: Lab
let app: string

beforeAll(() => {
  lab = loadLab()
  // A private copy of the app: the rotation test edits its config file.
  app = mkdtempSync(path.join(os.tmpdir(), 'sd-secrets-app-'))
  cpSync(path.join(ROOT, 'examples/secrets'), app, { recursive: true })
})

afterAll(async () => {
  await removeStack(lab, STACK)
  await removeStack(lab, MISSING)
})

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  const env = [
    `BASE_IMAGE=${lab.registry}/${lab.baseImage}`,
    `DB_PASSWORD=${DB_PASSWORD}`,
    `BIG_SECRET=${BIG_SECRET}`,
    ...Object.entries(VALUES).map(([k, v]) => `${k}=${v}`)
  ].join('\n')
  return {
    ...sshInputs(lab),
    registry: lab.registry,
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    stack: STACK,
    'compose-file': 'app.yml',
    env,
    timeout: '2m',
    ...extra
  }
}

/** Every process's command line on the machine (runner and lab nodes alike). */
function commandLines(): string[] {
  const lines: string[] = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      lines.push(readFileSync(`/proc/${pid}/cmdline`, 'latin1'))
    } catch {
      // the process ended meanwhile
    }
  }
  return lines
}

/** Run the action while sampling every command line every 50 ms. */
async function runSampled(input: Record<string, string>, env: Record<string, string> = {}): Promise<{ result: ActionRun; samples: string[] }> {
  const seen = new Set<string>()
  const timer = setInterval(() => {
    for (const line of commandLines()) seen.add(line)
  }, 50)
  try {
    const result = await runAction(lab, input, { cwd: app, env })
    return { result, samples: [...seen] }
  } finally {
    clearInterval(timer)
  }
}

/** Text of every file below a folder (following no links). */
function filesBelow(dir: string): Array<{ file: string; text: string }> {
  const found: Array<{ file: string; text: string }> = []
  // A folder that was never created holds nothing.
  if (!statSync(dir, { throwIfNoEntry: false })) return found
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name)
    const stat = statSync(file, { throwIfNoEntry: false })
    if (!stat) continue
    if (stat.isDirectory()) found.push(...filesBelow(file))
    else if (stat.isFile()) found.push({ file, text: readFileSync(file, 'latin1') })
  }
  return found
}

/**
 * Files under the manager's data root holding any of the values in plain
 * text. Skips tmpfs mounts (a running container's /run/secrets lives in
 * memory) and overlay views; the values go to grep in a file, not argv.
 */
function plaintextOnManager(values: string[]): string[] {
  const patterns = path.join(mkdtempSync(path.join(os.tmpdir(), 'sd-grep-')), 'patterns')
  writeFileSync(patterns, values.join('\n'), { mode: 0o600 })
  try {
    return execFileSync('grep', ['-rlF', '--exclude-dir=mounts', '--exclude-dir=merged', '-f', patterns, lab.managerDataRoot], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
  } catch (error) {
    const { status, stdout, stderr } = error as { status?: number; stdout?: string; stderr?: string }
    // grep exits 1 when nothing matches.
    if (status === 1) return []
    // Files that dockerd removed while grep walked the tree (a container of another stack going away)
    // are no error of the scan: what matched elsewhere still counts.
    const vanished = (stderr ?? '')
      .split('\n')
      .filter(Boolean)
      .every(line => line.endsWith('No such file or directory'))
    if (status === 2 && vanished) return (stdout ?? '').trim().split('\n').filter(Boolean)
    throw error
  } finally {
    rmSync(path.dirname(patterns), { recursive: true, force: true })
  }
}

function exec(args: string[]): Buffer {
  const container = docker(lab, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${STACK}_app`])
    .trim()
    .split('\n')[0]!
  expect(container).toMatch(/^[0-9a-f]+$/)
  return Buffer.from(docker(lab, ['exec', container, ...args]), 'utf8')
}

const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')

describe('secrets on the lab swarm', () => {
  it('delivers every awkward value byte for byte and leaks none of them', async () => {
    // DEBUG=* too: docker-modem's debug channel would print every Engine API reply.
    const { result, samples } = await runSampled(inputs(), { RUNNER_DEBUG: '1', DEBUG: '*' })
    expectVerdict(result, 0, 'converged')

    // 1. The exact bytes, read back inside the running container.
    // (The script names the variable; its value is never on a command line.)
    for (const [name, value] of Object.entries(VALUES)) expect(exec(['sh', '-c', `printf '%s' "$${name}"`]).toString('utf8')).toBe(value)
    expect(exec(['cat', '/run/secrets/db_password']).toString('utf8')).toBe(DB_PASSWORD)
    expect(exec(['cat', '/run/secrets/big']).toString('utf8')).toBe(BIG_SECRET)
    // With the file modes the compose file gives (0400, 0440: octal, as Docker reads them).
    expect(exec(['stat', '-c', '%A', '/run/secrets/db_password', '/run/secrets/big']).toString('utf8').split('\n')).toEqual(['-r--------', '-r--r-----', ''])
    // The swarm secret is not in the service environment.
    expect(exec(['env']).toString('utf8')).not.toContain(DB_PASSWORD)

    // 2. Not in stdout, stderr, outputs, summary or debug lines (::add-mask:: aside).
    const secretValues = [...Object.values(VALUES).filter(v => v !== 'true'), DB_PASSWORD, BIG_SECRET]
    expect(result.log).toContain('::debug::')
    expect(leaks(secretValues, { log: result.log, outputs: result.outputFile, summary: result.summary })).toEqual([])
    // `true` (4 characters) is redacted only as a word of its own, so it is not
    // given to the runner to mask everywhere; the action itself never prints it.
    expect(result.stdout).not.toContain('::add-mask::true')
    expect(leaks(['true'], { outputs: result.outputFile, summary: result.summary })).toEqual([])
    // Secrets of 8 characters or more are masked; so is every line of a long one.
    expect(result.stdout).toContain(`::add-mask::${VALUES.V1}`)

    // 3. Not in any process's command line while the action ran (latin1 matches UTF-8 bytes).
    expect(samples.length).toBeGreaterThan(20)
    const cmdlines = samples.join('\n')
    for (const value of [...Object.values(VALUES), DB_PASSWORD, BIG_SECRET]) {
      if (value === 'true') continue
      expect(cmdlines.includes(utf8(value))).toBe(false)
    }

    // 4. Not left in any file: the runner's temp, the checkout, the runner's home.
    for (const dir of [result.runnerTemp, app, result.home]) {
      const files = filesBelow(dir)
      for (const { file, text } of files) {
        for (const value of secretValues) expect(`${file}: ${text.includes(utf8(value))}`).toBe(`${file}: false`)
      }
    }
    // On the manager's disk, a swarm secret exists only inside Swarm's encrypted raft
    // store: no plaintext copy anywhere in its data root. (Plain env values, by
    // Docker's design, are in task and container records there: use secrets.)
    expect(plaintextOnManager([DB_PASSWORD, BIG_SECRET])).toEqual([])
    // The scan does find what is there: a plain env value in Docker's own records.
    expect(plaintextOnManager([VALUES.V1!]).length).toBeGreaterThan(0)
    expect(readdirSync(result.runnerTemp)).toEqual([])
    expect(readdirSync(app).sort()).toEqual(['app.yml', 'broken.yml', 'missing.yml', 'site.conf'])
    // Swarm secrets are external, created by the action: content-hash names.
    const secrets = docker(lab, ['secret', 'ls', '--filter', `label=com.docker.stack.namespace=${STACK}`, '--format', '{{.Name}}'])
      .trim()
      .split('\n')
      .sort()
    expect(secrets).toEqual([
      expect.stringMatching(new RegExp(`^${STACK}_big_[0-9a-f]{10}$`)),
      expect.stringMatching(new RegExp(`^${STACK}_db_password_[0-9a-f]{10}$`))
    ])
    // Their versioned names are never logged (hardening item 4): the log names their keys.
    for (const name of secrets) expect(result.log).not.toContain(name)
    expect(result.log).toContain('secret db_password (created)')
  })

  it('rolls out a changed config as a new version, prunes old ones after a success and none after a failure', async () => {
    // Release records are configs of the stack too; this test is about versions.
    const stackConfigs = (): string[] =>
      docker(lab, ['config', 'ls', '--filter', `label=com.docker.stack.namespace=${STACK}`, '--format', '{{.Name}}'])
        .trim()
        .split('\n')
        .filter(name => !name.startsWith(`${STACK}_release_`))
    const configName = (): string | undefined => inspectService(lab, `${STACK}_app`).Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName
    const before = configName()
    expect(before).toMatch(new RegExp(`^${STACK}_site_[0-9a-f]{10}$`))
    writeFileSync(path.join(app, 'site.conf'), `listen 8080 # version 2 ${run}\n`)

    // With one release kept, only the current and previous specs hold versions.
    const result = await runAction(lab, inputs({ 'keep-releases': '1' }), { cwd: app })
    expectVerdict(result, 0, 'converged')
    const after = configName()
    expect(after).not.toBe(before)
    expect(exec(['cat', '/etc/site.conf']).toString('utf8')).toBe(`listen 8080 # version 2 ${run}\n`)
    // The old version is kept for rollback (PreviousSpec) until a later success; anything older goes.
    const configs = stackConfigs().sort()
    expect(configs).toEqual([before, after].sort())

    writeFileSync(path.join(app, 'site.conf'), `listen 8080 # version 3 ${run}\n`)
    const third = await runAction(lab, inputs({ 'keep-releases': '1' }), { cwd: app })
    expect(third.code).toBe(0)
    const latest = configName()
    const left = stackConfigs().sort()
    expect(left).toEqual([after, latest].sort())
    expect(third.log).toContain(`Removed config ${before}`)

    // A failed deploy removes nothing: Swarm (or a person) may still roll back to any of them.
    writeFileSync(path.join(app, 'site.conf'), `listen 8080 # version 4 ${run}\n`)
    const failed = await runAction(lab, inputs({ 'compose-file': 'app.yml\nbroken.yml', 'keep-releases': '1' }), { cwd: app })
    expectVerdict(failed, 'non-zero', 'rolled-back')
    expect(failed.log).not.toContain('Remove unused secret and config versions')
    const kept = stackConfigs()
    expect(kept).toEqual(expect.arrayContaining([after, latest]))
    expect(kept).toHaveLength(3)
  })

  it('reads env-file as data and lets through only the runner variables it is told to', async () => {
    // Shell syntax in the file stays text: it is parsed, never sourced.
    writeFileSync(path.join(app, 'prod.env'), `# from a file\nFROM_FILE=file-${run}-$(id)\n`)
    const result = await runAction(lab, inputs({ 'env-file': 'prod.env', 'env-passthrough': 'PASSED' }), {
      cwd: app,
      env: { PASSED: `passed-${run}`, NOT_PASSED: `runner-only-${run}` }
    })
    expect(result.code).toBe(0)
    const read = (name: string): string => exec(['sh', '-c', `printf '%s' "$${name}"`]).toString('utf8')
    expect(read('FROM_FILE')).toBe(`file-${run}-$(id)`)
    expect(read('PASSED')).toBe(`passed-${run}`)
    expect(read('NOT_PASSED')).toBe('')
    expect(result.log).not.toContain(`file-${run}`)
    // A passed-through value compose reads is secret like env (hardening item 2); one it does not read is not.
    expect(result.stdout).toContain(`::add-mask::passed-${run}`)
    expect(result.stdout).not.toContain(`::add-mask::runner-only-${run}`)
  })

  it('stops before any change when a referenced variable or a bare environment name is not set, naming it', async () => {
    const result = await runAction(lab, { ...inputs(), stack: MISSING, 'compose-file': 'missing.yml' }, { cwd: app })
    expect(result.code).toBe(1)
    expect(result.log).toMatch(
      /::error::compose-file: missing.yml line 7 uses \$\{API_TOKEN_THAT_NOBODY_SET\}, which is not set: add API_TOKEN_THAT_NOBODY_SET=… to the env input/
    )
    expect(result.log).toContain(
      'missing.yml line 8: environment entry JWT_SECRET_NOBODY_SET has no value, so docker would fill it from its own environment, where JWT_SECRET_NOBODY_SET is not set'
    )
    expect(result.log).toContain('Nothing was deployed.')
    expect(result.log).not.toContain('::group::')
    expect(stackExists(lab, MISSING)).toBe(false)
  })
})

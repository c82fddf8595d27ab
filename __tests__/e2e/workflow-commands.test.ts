// Text from the swarm is never a workflow command, on the lab swarm: a
// container whose log holds `\r::error …`, `\r::add-mask::…`,
// `\r::stop-commands::…` and a legacy `##[error]` fails, and its log tail is
// shown in the diagnostics of the Action and of the CLI. The runner reads a
// step's output as lines split at `\r` and `\n`, each trimmed of leading
// white space, and finds `##[command]` anywhere in a line: `readAsRunner`
// (__tests__/support/runner-reading.ts) reads the output the same way.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { readAsRunner } from '../support/runner-reading.js'
import type { Lab } from './harness.js'
import { expectVerdict, loadLab, removeStack, runAction, runCli, runPost, sshFlags, sshInputs } from './harness.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
const STACKS = { action: `wfcmd-action-${run}`, cli: `wfcmd-cli-${run}` }
// What the forged add-mask would hide: if the runner took it, this word would vanish from the log.
const FORGED = `wfcmdforged${run}`

let lab: Lab
let compose: string

/** What the forged lines must not have become, and must still show as text. */
function expectNoForgedCommand(output: string): void {
  const { commands, text } = readAsRunner(output)
  const forged = commands.filter(c => /forged|Deploy OK|legacy/.test(c.name + c.data) || c.data.includes(FORGED))
  expect(forged).toEqual([])
  expect(commands.filter(c => c.name === 'add-mask' && c.data.includes(FORGED))).toEqual([])
  // The only stop-commands windows are the Action's own, each with a fresh random token.
  for (const c of commands.filter(c => c.name.startsWith('stop-commands'))) expect(c.data).toMatch(/^[0-9a-f]{32}$/)
  // The container's line is still there, as text: nothing passed by printing nothing.
  expect(text.some(line => line.includes('title=Deploy OK::forged'))).toBe(true)
  expect(text.some(line => line.includes(`add-mask::${FORGED}`))).toBe(true)
}

beforeAll(() => {
  lab = loadLab()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wfcmd-'))
  compose = path.join(dir, 'forge.yml')
  // printf turns each \r into a carriage return; the container fails after its log is written.
  const script = `printf 'boom\\r::error title=Deploy OK::forged\\r::add-mask::${FORGED}\\r::stop-commands::x\\r  ##[error]legacy\\n'; sleep 2; exit 3`
  // JSON is YAML: the script goes in as it is, with no quoting of its own.
  const spec = {
    version: '3.8',
    services: {
      forge: {
        image: `${lab.registry}/${lab.baseImage}`,
        command: ['sh', '-c', script],
        init: true,
        deploy: { replicas: 1, restart_policy: { condition: 'any', delay: '1s' } }
      }
    }
  }
  writeFileSync(compose, JSON.stringify(spec, null, 2))
})

afterAll(async () => {
  for (const stack of Object.values(STACKS)) await removeStack(lab, stack)
})

describe('workflow commands in container logs', () => {
  it('the Action shows the failing container log as text: no forged error, add-mask or stop-commands; a corrupt post state is a warning', async () => {
    const result = await runAction(lab, {
      ...sshInputs(lab),
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      registry: lab.registry,
      stack: STACKS.action,
      'compose-file': compose,
      timeout: '2m'
    })
    expectVerdict(result, 'non-zero', 'failed')
    expectNoForgedCommand(result.stdout)
    expectNoForgedCommand(result.stdout + '\n' + result.stderr)

    // The post step with its state cut short: a warning, never a failed job.
    const post = await runPost({ ...result, state: { ...result.state, leftovers: '["/tmp/x",', swarmLeftovers: '[{"kind":"lock",' } })
    expect(post.code).toBe(0)
    expect(post.stdout).toMatch(/^::warning::Could not remove what the main step left: /m)
    expect(post.stdout).toMatch(/^::warning::Could not settle what the main step left on the swarm: /m)
    expect(post.stdout).not.toContain('::error::')
  })

  it('the CLI (run in a workflow step, read by the runner) prints it as text too', async () => {
    const result = await runCli(
      lab,
      [
        ...sshFlags(lab),
        '--stack',
        STACKS.cli,
        '--compose-file',
        compose,
        '--registry',
        lab.registry,
        '--registry-username',
        lab.registryUser,
        '--timeout',
        '2m'
      ],
      { env: { SWARM_DEPLOY_REGISTRY_PASSWORD: lab.registryPassword } }
    )
    expect(result.code).toBe(1)
    expectNoForgedCommand(result.stdout)
    expect(readAsRunner(result.stdout + '\n' + result.stderr).commands).toEqual([])
  })
})

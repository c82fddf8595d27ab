// Reaching the swarm: several managers in order, all of them unreachable,
// an encrypted RSA PEM key, a 50-service stack through an sshd with
// MaxSessions 10, failover to another listener while the action waits, and
// a jump host. The second sshd on the manager (port 2201, MaxSessions 10)
// comes from `lab.sh extra-sshd up`, the bastion (10.77.0.5) and the manager
// sshd that answers only it (port 2202) from `lab.sh bastion up`.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ActionRun, Lab } from './harness.js'
import { dockerAsync, expectVerdict, loadLab, removeStack, ROOT, runAction, sshInputs, stackExists } from './harness.js'

jest.setTimeout(300_000)

const run = Date.now().toString(36)
const STACKS = {
  jump: `e2e-conn-jump-${run}`,
  jumpWrong: `e2e-conn-jumpwrong-${run}`,
  second: `e2e-conn-second-${run}`,
  none: `e2e-conn-none-${run}`,
  pem: `e2e-conn-pem-${run}`,
  wrong: `e2e-conn-wrong-${run}`,
  many: `e2e-conn-many-${run}`,
  failover: `e2e-conn-fail-${run}`
}
/** A lab address with no sshd (nothing answers there). */
const NO_SSHD = '10.77.0.9'
const LAB_SH = path.join(ROOT, 'lab/lab.sh')
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

interface Extra {
  host: string
  port: number
  knownHosts: string
  keyFile: string
  passphraseFile: string
}

interface Bastion {
  host: string
  port: number
  knownHosts: string
  managerHost: string
  managerPort: number
  managerKnownHosts: string
}

let lab: Lab
let extra: Extra
let bastion: Bastion
let dir: string

function extraSshd(action: 'up' | 'down'): void {
  execFileSync('bash', [LAB_SH, 'extra-sshd', action], { stdio: ['ignore', 'ignore', 'pipe'] })
}

function bastionLab(action: 'up' | 'down'): void {
  execFileSync('bash', [LAB_SH, 'bastion', action], { stdio: ['ignore', 'ignore', 'pipe'] })
}

beforeAll(() => {
  lab = loadLab()
  extraSshd('up')
  extra = JSON.parse(readFileSync('/run/swl/extra/extra.json', 'utf8')) as Extra
  bastionLab('up')
  bastion = JSON.parse(readFileSync('/run/swl/bastion/bastion.json', 'utf8')) as Bastion
  dir = mkdtempSync(path.join(os.tmpdir(), 'sd-conn-'))
  const service = (name: string, monitor: string): string =>
    `  ${name}:\n    image: \${BASE_IMAGE}\n    command: ["sleep", "3600"]\n    init: true\n    deploy:\n      replicas: 1\n      update_config:\n        monitor: ${monitor}\n`
  writeFileSync(path.join(dir, 'one.yml'), `version: "3.8"\nservices:\n${service('app', '1s')}`)
  writeFileSync(path.join(dir, 'slow.yml'), `version: "3.8"\nservices:\n${service('app', '25s')}`)
  writeFileSync(path.join(dir, 'many.yml'), `version: "3.8"\nservices:\n${Array.from({ length: 50 }, (_, i) => service(`s${i}`, '1s')).join('')}`)
})

afterAll(async () => {
  extraSshd('down')
  bastionLab('down')
  for (const stack of Object.values(STACKS)) await removeStack(lab, stack)
})

function inputs(stack: string, file: string, more: Record<string, string>): Record<string, string> {
  return { ...sshInputs(lab), stack, 'compose-file': file, env: `BASE_IMAGE=${lab.baseImage}`, timeout: '3m', ...more }
}

/** known-hosts lines of the lab manager, for another address or port. */
function knownHostsAs(name: string): string {
  return lab.knownHosts
    .trim()
    .split('\n')
    .map(line => `${name} ${line.split(' ').slice(1).join(' ')}`)
    .join('\n')
}

function stats(result: ActionRun): { sshConnections: number; maxChannels: number } {
  const line = result.log.split('\n').find(l => l.includes('swarm-deploy stats '))
  expect(line).toBeDefined()
  return JSON.parse(line!.slice(line!.indexOf('{'))) as { sshConnections: number; maxChannels: number }
}

describe('reaching the swarm', () => {
  it('goes through the second host when the first has no sshd, and the log names both', async () => {
    const result = await runAction(
      lab,
      inputs(STACKS.second, 'one.yml', {
        host: `${NO_SSHD}\n${lab.sshHost}`,
        'known-hosts': `${knownHostsAs(NO_SSHD)}\n${lab.knownHosts}`,
        'connect-timeout': '5s'
      }),
      { cwd: dir }
    )
    expectVerdict(result, 0, 'converged')
    expect(result.log).toMatch(new RegExp(`Manager ${NO_SSHD}:22 skipped: (timed out after 5s|unreachable \\(no route to host\\))`))
    expect(result.log).toContain(`Manager ${lab.sshHost}:22 serves this deploy (skipped: ${NO_SSHD}:22 `)
    expect(result.log).toContain(`Docker engine reached through root@${lab.sshHost}:22`)
  })

  it('with only unreachable hosts and connect-timeout 5s, fails in under 15 s naming each host, and deploys nothing', async () => {
    const result = await runAction(
      lab,
      inputs(STACKS.none, 'one.yml', {
        host: `${NO_SSHD}, ${lab.sshHost}:2299`,
        'known-hosts': `${knownHostsAs(NO_SSHD)}\n${knownHostsAs(`[${lab.sshHost}]:2299`)}`,
        'connect-timeout': '5s'
      }),
      { cwd: dir }
    )
    expect(result.code).not.toBe(0)
    expect(result.seconds).toBeLessThan(15)
    expect(result.log).toMatch(
      new RegExp(
        `::error::ssh: no swarm manager could be reached: ${NO_SSHD}:22 (timed out after 5s|unreachable \\(no route to host\\)); ${lab.sshHost.replace(/\./g, '\\.')}:2299 connection refused \\(no sshd listens on that port\\)\\. Nothing was deployed\\.`
      )
    )
    expect(stackExists(lab, STACKS.none)).toBe(false)
  })

  it('deploys with an encrypted RSA PEM key and its passphrase; a wrong passphrase stops with one line', async () => {
    const key = readFileSync(extra.keyFile, 'utf8')
    const passphrase = readFileSync(extra.passphraseFile, 'utf8').trim()
    expect(key).toContain('Proc-Type: 4,ENCRYPTED')
    const viaPem = { host: `${extra.host}:${extra.port}`, 'known-hosts': extra.knownHosts, 'ssh-key': key }
    const good = await runAction(lab, inputs(STACKS.pem, 'one.yml', { ...viaPem, 'ssh-key-passphrase': passphrase }), { cwd: dir })
    expectVerdict(good, 0, 'converged')
    expect(good.log).not.toContain(passphrase)

    const wrong = await runAction(lab, inputs(STACKS.wrong, 'one.yml', { ...viaPem, 'ssh-key-passphrase': `not-${passphrase}` }), { cwd: dir })
    expect(wrong.code).not.toBe(0)
    const errors = wrong.log.split('\n').filter(line => line.startsWith('::error::'))
    expect(errors).toEqual(['::error::ssh-key-passphrase: does not decrypt ssh-key: give the passphrase of this key (the one ssh-keygen -p asks for)'])
    expect(wrong.log).not.toContain(passphrase)
    expect(stackExists(lab, STACKS.wrong)).toBe(false)
  })

  it('deploys a 50-service stack through an sshd with MaxSessions 10, never more than 8 channels open at once', async () => {
    const result = await runAction(
      lab,
      inputs(STACKS.many, 'many.yml', { host: `${extra.host}:${extra.port}`, 'known-hosts': extra.knownHosts, timeout: '4m' }),
      { cwd: dir }
    )
    expectVerdict(result, 0, 'converged')
    expect(JSON.parse(result.outputs.services!)).toHaveLength(50)
    const { sshConnections, maxChannels } = stats(result)
    expect(sshConnections).toBe(1)
    expect(maxChannels).toBeGreaterThan(0)
    expect(maxChannels).toBeLessThanOrEqual(8)
  })

  it('resumes through the second listener when the first is stopped while it waits, and converges', async () => {
    const pending = runAction(
      lab,
      inputs(STACKS.failover, 'slow.yml', { host: `${extra.host}:${extra.port}\n${lab.sshHost}:22`, 'known-hosts': `${extra.knownHosts}\n${lab.knownHosts}` }),
      { cwd: dir }
    )
    let finished = false
    void pending.then(() => (finished = true))
    // The service exists and its task runs: the action is waiting out the 25 s monitor.
    for (const started = Date.now(); !finished && Date.now() - started < 90_000; await sleep(300)) {
      const tasks = await dockerAsync(lab, ['stack', 'ps', STACKS.failover, '--format', '{{.CurrentState}}']).catch(() => '')
      if (/^Running/m.test(tasks)) break
    }
    expect(finished).toBe(false)
    extraSshd('down')
    const result = await pending
    extraSshd('up')
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain(`Docker engine reached through root@${extra.host}:${extra.port}`)
    expect(result.log).toContain(`SSH connection to ${extra.host}:${extra.port} lost; reconnecting`)
    expect(result.log).toContain(`SSH reconnected through root@${lab.sshHost}:22`)
    expect(stats(result).sshConnections).toBe(2)
  })

  it('deploys through jump-host to a manager sshd that answers only the bastion; a wrong jump host key is refused before anything is deployed', async () => {
    const behind = { host: `${bastion.managerHost}:${bastion.managerPort}`, 'known-hosts': bastion.managerKnownHosts }
    const direct = await runAction(lab, inputs(STACKS.jump, 'one.yml', behind), { cwd: dir })
    expect(direct.code).not.toBe(0)
    expect(direct.log).toContain(`::error::ssh: cannot connect to root@${bastion.managerHost}:${bastion.managerPort}: connection refused`)

    const through = { ...behind, 'jump-host': `root@${bastion.host}:${bastion.port}`, 'jump-known-hosts': bastion.knownHosts }
    const result = await runAction(lab, inputs(STACKS.jump, 'one.yml', through), { cwd: dir })
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain(`Through jump host root@${bastion.host}:${bastion.port} to ${bastion.managerHost}:${bastion.managerPort}`)

    // The manager's own key under the bastion's name: not the bastion's key.
    const wrongKey = `${bastion.host} ${bastion.managerKnownHosts.trim().split(' ').slice(1).join(' ')}`
    const refused = await runAction(lab, inputs(STACKS.jumpWrong, 'one.yml', { ...through, 'jump-known-hosts': wrongKey }), { cwd: dir })
    expect(refused.code).not.toBe(0)
    expect(refused.log).toMatch(
      new RegExp(
        `::error::ssh: jump host root@${bastion.host.replace(/\./g, '\\.')}:22: the host key of ${bastion.host.replace(/\./g, '\\.')} \\(SHA256:\\S+\\) does not match jump-known-hosts: refusing to connect`
      )
    )
    expect(stackExists(lab, STACKS.jumpWrong)).toBe(false)
  })
})

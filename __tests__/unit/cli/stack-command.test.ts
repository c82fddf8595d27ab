// The part every stack sub-command shares: the stack, the target and the
// command's own settings read before anything connects; a bad one is exit 2
// with the message on stderr, any secret in it masked.
import { describe, expect, it } from '@jest/globals'
import { readStackCommand } from '../../../src/cli/stack-command.js'
import { InputError } from '../../../src/inputs/parse.js'
import { fakeWorld } from '../../support/fake-world.js'

const PASSWORD = 'registry-password-7f3a'
// No host: the local engine, so no key is needed here.
const ARGS = ['--stack', 'shop']

function run(argv: string[], reader?: Parameters<typeof readStackCommand<unknown>>[5]) {
  const fake = fakeWorld()
  const host = { ...fake.host, env: { ...fake.host.env, SWARM_DEPLOY_REGISTRY_PASSWORD: PASSWORD } }
  const out = { stdout: '', stderr: '' }
  const io = { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) }
  const result = reader ? readStackCommand('try', 'HELP TEXT\n', argv, io, host, reader) : readStackCommand('try', 'HELP TEXT\n', argv, io, host)
  return { result, out }
}

describe('readStackCommand', () => {
  it("gives the stack, the target and what the command's reader made of its flags", () => {
    const { result } = run([...ARGS, '--timeout', '2m'], (line, target) => ({ timeout: line.read('timeout'), target: target.kind }))
    expect(result).toMatchObject({ stack: 'shop', target: { kind: 'local' }, settings: { timeout: '2m', target: 'local' } })
  })

  it('ends with exit 2 on a bad setting, said on stderr with the secrets masked', () => {
    const { result, out } = run(ARGS, () => {
      throw new InputError('timeout', `not a duration: ${PASSWORD}`)
    })
    expect(result).toBe(2)
    expect(out.stderr).toBe('swarm-deploy try: timeout: not a duration: ***\n')
    expect(out.stdout).toBe('')
  })

  it('reads no setting for --help, or when the stack is bad', () => {
    let reads = 0
    const reader = () => void reads++
    expect(run(['--help'], reader).result).toBe(0)
    const bad = run(['--stack', 'Bad Name!'], reader)
    expect(bad.result).toBe(2)
    expect(bad.out.stderr).toMatch(/^swarm-deploy try: stack: /)
    expect(reads).toBe(0)
  })

  it('lets an error that is not about input through', () => {
    expect(() =>
      run(ARGS, () => {
        throw new TypeError('a bug')
      })
    ).toThrow('a bug')
  })

  it('without a reader, has no settings', () => {
    const { result, out } = run(ARGS)
    expect(out.stderr).toBe('')
    expect(result).toMatchObject({ stack: 'shop', settings: undefined })
  })
})

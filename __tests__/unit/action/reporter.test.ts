// The Actions reporter: child output inside ::stop-commands:: windows, the
// length policy for masks, and the word-bound secrets it redacts itself.
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { actionsReporter } from '../../../src/action/reporter.js'
import { readAsRunner } from '../../support/runner-reading.js'

let printed = ''
afterEach(() => void jest.restoreAllMocks())

function capture(): void {
  printed = ''
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return true
  })
}

/** Lines the runner would run as commands: those outside every stop-commands window. */
function commandLines(text: string): string[] {
  const commands: string[] = []
  let token: string | undefined
  for (const line of text.split('\n')) {
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

describe('actionsReporter', () => {
  it('prints child output between ::stop-commands:: and its token, so no line of it is a command', async () => {
    capture()
    const reporter = actionsReporter()
    await reporter.phase('Build', async () => {
      reporter.command(['docker', 'build', '.'])
      reporter.stream(Buffer.from('Step 1/2 : RUN echo\n::set-output name=x::y\n::add-'), 'stdout')
      reporter.stream(Buffer.from('mask::hunter\n::error::injected\n'), 'stderr')
      reporter.stream(Buffer.from('partial line'), 'stdout')
      reporter.info('Pushed image')
    })
    reporter.warn('ours')
    const windows = [...printed.matchAll(/^::stop-commands::([0-9a-f]{32})$/gm)].map(m => m[1])
    expect(windows).toHaveLength(1)
    expect(printed).toContain(`::${windows[0]}::\nPushed image\n`)
    expect(printed).toContain('partial line\n')
    // Ours are commands; the child's are not.
    expect(commandLines(printed)).toEqual(['::group::Build', '::endgroup::', '::warning::ours'])
  })

  it('closes the window before anything of its own, and opens a fresh one with a new token', () => {
    capture()
    const reporter = actionsReporter()
    reporter.stream(Buffer.from('one\n'), 'stdout')
    reporter.secret('a-long-enough-secret')
    reporter.stream(Buffer.from('two\n'), 'stdout')
    reporter.output('status', 'converged')
    const tokens = [...printed.matchAll(/^::stop-commands::(\S+)$/gm)].map(m => m[1])
    expect(tokens).toHaveLength(2)
    expect(tokens[0]).not.toBe(tokens[1])
    expect(commandLines(printed)).toEqual(['::add-mask::a-long-enough-secret', '::set-output name=status::converged'])
  })

  it('masks only values of 8 characters or more, and redacts shorter ones itself on word boundaries', () => {
    capture()
    const reporter = actionsReporter()
    reporter.secret('a')
    reporter.secret('prod')
    reporter.secret('hunter2-password')
    reporter.info('deploying prod to production; a, b')
    reporter.stream(Buffer.from('db=pr'), 'stdout')
    reporter.stream(Buffer.from('od done\n'), 'stdout')
    expect(printed).not.toContain('::add-mask::a\n')
    expect(printed).not.toContain('::add-mask::prod')
    expect(printed).toContain('::add-mask::hunter2-password\n')
    expect(printed).toContain('deploying *** to production; a, b')
    expect(printed).toContain('db=*** done')
    expect(reporter.redact('x hunter2-password prod')).toBe('x *** ***')
  })
})

describe('actionsReporter and text from outside', () => {
  it('prints no workflow command from text split by \\r, indented, or hidden behind invisible characters', async () => {
    capture()
    const reporter = actionsReporter()
    reporter.secret('a-long-enough-secret')
    await reporter.phase('Diagnostics', async () => {
      reporter.info('web.1 failed: task: non-zero exit (3)')
      reporter.info('    | boom\r::error title=Deploy OK::forged\r::add-mask::hunter22\r::stop-commands::x')
      reporter.info('  ::error::indented \u2028::warning::sep \u0085::notice::nel ##[error]legacy')
      reporter.warn('from swarm:\r::error::w')
      reporter.debug('\u200b::error::zw')
    })
    const { commands, text } = readAsRunner(printed)
    // Only ours: the group, the mask, the warning and the debug line, with their text inside.
    expect(commands.map(c => c.name)).toEqual(['add-mask', 'group', 'warning', 'debug', 'endgroup'])
    expect(commands.filter(c => c.name === 'add-mask').map(c => c.data)).toEqual(['a-long-enough-secret'])
    expect(text.join('\n')).toContain('boom::error title=Deploy OK::forged::add-mask::hunter22::stop-commands::x')
    expect(printed).not.toMatch(/[\u2028\u0085\u200b]/)
  })

  it('hides a secret with a control character in it: cleaned, the runner mask would no longer match it', () => {
    capture()
    const reporter = actionsReporter()
    reporter.secret('pass\u001bword-1234')
    reporter.secret('ab\rcd')
    reporter.info('got pass\u001bword-1234 and ab\rcd here')
    expect(printed).toContain('got *** and *** here')
  })

  it('keeps child output in its window: no \\r, separator or split line ends it or runs a command', async () => {
    capture()
    const reporter = actionsReporter()
    await reporter.phase('Deploy', async () => {
      reporter.stream(Buffer.from('Creating service\r::stop-commands::x\r::error::a\u2028::'), 'stdout')
      reporter.stream(Buffer.from('warning::b\n##[add-mask]hunter22\r'), 'stderr')
      reporter.stream(Buffer.from('\n  ::x::\n'), 'stderr')
      // A multi-byte character split across chunks.
      const bytes = Buffer.from('é::error::c\n')
      reporter.stream(bytes.subarray(0, 1), 'stdout')
      reporter.stream(bytes.subarray(1), 'stdout')
      reporter.info('after')
    })
    const { commands, text } = readAsRunner(printed)
    expect(commands.map(c => c.name)).toEqual(['group', 'stop-commands', expect.stringMatching(/^[0-9a-f]{32}$/), 'endgroup'])
    expect(text).toContain('after')
    expect(text.some(line => line.endsWith('::a::é::error::c'))).toBe(true)
    expect(printed).not.toMatch(/[\r\u2028]/)
  })
})

describe('run()', () => {
  it('drops the secret INPUT_* variables (smoke-url too) from the environment once read, before anything can start a child', async () => {
    capture()
    const { run, SECRET_VARIABLES } = await import('../../../src/main.js')
    expect(SECRET_VARIABLES).toEqual([
      'INPUT_SSH-KEY',
      'INPUT_SSH-KEY-PASSPHRASE',
      'INPUT_JUMP-SSH-KEY',
      'INPUT_REGISTRY-PASSWORD',
      'INPUT_ENV',
      'INPUT_RELEASE-KEY',
      'INPUT_GITHUB-TOKEN',
      'INPUT_SMOKE-URL'
    ])
    const given = {
      'INPUT_SSH-KEY': 'key-text',
      'INPUT_REGISTRY-PASSWORD': 'registry-pw',
      INPUT_ENV: 'DB_PASSWORD=hunter2-db',
      'INPUT_SMOKE-URL': 'https://probe:smoke-pass-91c2@shop.example.test/health?token=tok-smoke-7d3f',
      INPUT_STACK: 'x;bad'
    }
    Object.assign(process.env, given)
    try {
      await run()
      // The bad stack stops it at the inputs; the secret variables are gone all the same.
      expect(printed).toContain("::error::stack: 'x;bad' is not a valid stack name")
      expect(process.env['INPUT_SSH-KEY']).toBeUndefined()
      expect(process.env['INPUT_REGISTRY-PASSWORD']).toBeUndefined()
      expect(process.env.INPUT_ENV).toBeUndefined()
      expect(process.env['INPUT_SMOKE-URL']).toBeUndefined()
      expect(process.env.INPUT_STACK).toBe('x;bad')
      expect(printed).toContain('::add-mask::smoke-pass-91c2')
      expect(printed).toContain('::add-mask::hunter2-db')
    } finally {
      for (const name of Object.keys(given)) delete process.env[name]
      process.exitCode = 0
    }
  })
})

describe('post()', () => {
  it.each([
    ['not JSON', '{"kind":"lock",'],
    ['JSON null', 'null'],
    ['not a list', '{"kind":"lock","stack":"shop","id":"L"}'],
    ['a list of something else', '[{"kind":"lock"}, 3]']
  ])('warns and succeeds when the saved swarm state is %s', async (_what, state) => {
    capture()
    const { post } = await import('../../../src/main.js')
    const given = { STATE_leftovers: '[]', STATE_swarmLeftovers: state }
    Object.assign(process.env, given)
    try {
      await expect(post()).resolves.toBeUndefined()
      expect(printed).toContain('Nothing left to remove.')
      expect(printed).toMatch(/^::warning::Could not settle what the main step left on the swarm: /m)
      expect(printed).not.toContain('::error::')
      expect(process.exitCode ?? 0).toBe(0)
    } finally {
      for (const name of Object.keys(given)) delete process.env[name]
      process.exitCode = 0
    }
  })

  it('warns and succeeds when the saved file state is not JSON', async () => {
    capture()
    const { post } = await import('../../../src/main.js')
    const given = { STATE_leftovers: '["/tmp/x",', STATE_swarmLeftovers: '' }
    Object.assign(process.env, given)
    try {
      await expect(post()).resolves.toBeUndefined()
      expect(printed).toMatch(/^::warning::Could not remove what the main step left: /m)
    } finally {
      for (const name of Object.keys(given)) delete process.env[name]
    }
  })
})

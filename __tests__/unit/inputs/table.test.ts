// One row per input: what is secret, boolean, repeatable, defaulted or given
// from a file is said once, in src/inputs/table.ts, and everything else is
// derived from it. These tests fail when a second list appears.
import { describe, expect, it } from '@jest/globals'
import { generateKeyPairSync } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { helpText, parseCommandLine } from '../../../src/cli/args.js'
import { SECRET_VARIABLES as CLI_SECRET_VARIABLES } from '../../../src/cli/main.js'
import { getInputs } from '../../../src/inputs/inputs.js'
import { getRefreshInputs } from '../../../src/inputs/refresh-inputs.js'
import { defaultOf, INPUTS, isInputName, kindOf, repeatable } from '../../../src/inputs/table.js'
import { ENV_SECRET_INPUTS, SECRET_INPUTS, secretsOf } from '../../../src/secrets.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const SECRET_VALUE = 'a-secret-value-of-some-length'
const noFiles = { env: {}, readFile: () => undefined }

describe('secret inputs', () => {
  const secret = INPUTS.filter(spec => spec.secret)

  it('are the ones the table marks, and their variables are dropped once read', () => {
    expect(SECRET_INPUTS).toEqual(secret.map(spec => spec.name))
    expect(ENV_SECRET_INPUTS).toEqual(INPUTS.filter(spec => spec.secret || spec.secretParts).map(spec => spec.name))
    expect(CLI_SECRET_VARIABLES).toEqual(ENV_SECRET_INPUTS.map(name => `SWARM_DEPLOY_${name.toUpperCase().replace(/-/g, '_')}`))
  })

  it.each(secret.map(spec => [spec.name, spec] as const))('%s is masked, refused as a flag and in --config, and has a file form', (name, spec) => {
    const value = kindOf(spec) === 'map' ? `KEY=${SECRET_VALUE}` : SECRET_VALUE
    const masked = secretsOf(input => (input === name ? value : ''))
    expect(masked.map(s => s.value)).toEqual([SECRET_VALUE])

    expect(() => parseCommandLine([`--${name}`, value], noFiles)).toThrow(new RegExp(`^${name}: is refused as a command-line flag`))
    expect(() => parseCommandLine(['--config', 'c.yml'], { env: {}, readFile: () => `${name}: x\n` })).toThrow(new RegExp(`^${name}: is refused in --config`))

    expect(spec.file).toBeDefined()
    if (isInputName(spec.file!)) return // env-file: an input of its own reads the file
    const line = parseCommandLine([`--${spec.file}`, 'secret.txt'], { env: {}, readFile: file => (file === 'secret.txt' ? value : undefined) })
    expect(line.read(name)).toBe(value)
    expect(helpText()).toContain(`--${spec.file} FILE`)
  })

  it('a URL with secret parts is masked in those parts and refused as a flag only with them', () => {
    for (const spec of INPUTS.filter(s => s.secretParts === 'url')) {
      expect(secretsOf(input => (input === spec.name ? `https://user:${SECRET_VALUE}@example.com/` : '')).map(s => s.value)).toContain(SECRET_VALUE)
      expect(() => parseCommandLine([`--${spec.name}`, `https://example.com/?token=${SECRET_VALUE}`], noFiles)).toThrow(/is refused as a command-line flag/)
      expect(parseCommandLine([`--${spec.name}`, 'https://example.com/'], noFiles).read(spec.name)).toBe('https://example.com/')
    }
  })
})

describe('the CLI from the table', () => {
  it.each(INPUTS.map(spec => [spec.name, kindOf(spec)] as const))('--%s (%s)', (name, kind) => {
    const spec = INPUTS.find(s => s.name === name)!
    if (kind === 'boolean') {
      expect(parseCommandLine([`--${name}`], noFiles).read(name)).toBe('true')
      expect(parseCommandLine([`--no-${name}`], noFiles).read(name)).toBe('false')
      expect(helpText()).toContain(`--${name} [true|false]`)
    } else expect(() => parseCommandLine([`--no-${name}`], noFiles)).toThrow(`unknown option --no-${name}`)
    if (spec.secret) return
    const [a, b] = kind === 'boolean' ? ['true', 'false'] : ['a', 'b']
    const twice = (): unknown => parseCommandLine([`--${name}`, a!, `--${name}`, b!], noFiles)
    if (repeatable(spec)) expect((twice() as { read: (n: string) => string }).read(name)).toBe(`${a}\n${b}`)
    else expect(twice).toThrow(`${name}: is given more than once`)
    expect(parseCommandLine([], noFiles).read(name)).toBe(spec.default ?? '')
  })
})

describe('defaults', () => {
  const KEY = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs1' }).toString()
  const base: Record<string, string> = {
    host: '10.77.0.2',
    user: 'deploy',
    'ssh-key': KEY,
    'known-hosts': '10.77.0.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==',
    stack: 'web',
    image: '10.77.0.1:5000/demo/app'
  }
  const context = { env: { GITHUB_SHA: 'abc123' }, isFile: () => true, readFile: () => '' }
  const empty = (values: Record<string, string>) => (name: string) => values[name] ?? ''
  const defaulted = (values: Record<string, string>) => (name: string) => values[name] ?? INPUTS.find(s => s.name === name)!.default ?? ''

  it('an empty input reads as the default the table gives it, for a deploy and a refresh', () => {
    expect(getInputs(empty(base), context)).toEqual(getInputs(defaulted(base), context))
    const refresh = { ...base, image: '', registry: 'ghcr.io', 'registry-username': 'me', 'registry-password': SECRET_VALUE }
    expect(getRefreshInputs(empty(refresh))).toEqual(getRefreshInputs(defaulted(refresh)))
    // A refresh warns about deploy inputs set to anything but their defaults.
    expect(getRefreshInputs(defaulted(refresh)).warnings).toEqual([])
  })

  it('defaultOf answers from the table and refuses an input without one', () => {
    for (const spec of INPUTS) if (spec.default !== undefined) expect(defaultOf(spec.name)).toBe(spec.default)
    expect(() => defaultOf('stack')).toThrow('stack has no default in the table')
  })
})

/** Every .ts file under src/, but the table. */
function sources(): Array<{ file: string; text: string }> {
  const found: Array<{ file: string; text: string }> = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.endsWith('.ts') && full !== path.join(ROOT, 'src/inputs/table.ts'))
        found.push({ file: path.relative(ROOT, full), text: readFileSync(full, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '') })
    }
  }
  walk(path.join(ROOT, 'src'))
  return found
}

describe('no second list', () => {
  it('no array or object in src/ names two secret inputs (a list of secret inputs is derived from the table)', () => {
    const names = INPUTS.filter(spec => spec.secret || spec.secretParts).map(spec => spec.name)
    const lists: string[] = []
    for (const { file, text } of sources()) {
      // An array of names, or an object keyed by them: the innermost [...] and {...}.
      for (const [group] of text.matchAll(/\[[^[\]]*\]|\{[^{}]*\}/g)) {
        const named = names.filter(name => new RegExp(group!.startsWith('[') ? `['"\`]${name}(-file)?['"\`]` : `['"]${name}(-file)?['"]\\s*:`).test(group!))
        if (named.length >= 2) lists.push(`${file}: ${named.join(', ')}`)
      }
    }
    expect(lists).toEqual([])
  })

  it("no parser in src/inputs or src/cli writes a table default as a fallback, or a boolean's", () => {
    const defaults = new Set(INPUTS.flatMap(spec => (spec.default === undefined ? [] : [spec.default])))
    const written: string[] = []
    for (const { file, text } of sources().filter(s => /^src\/(inputs|cli)\//.test(s.file))) {
      for (const [, literal] of text.matchAll(/(?:\|\||\?\?)\s*'([^']*)'/g)) if (defaults.has(literal!)) written.push(`${file}: ${literal}`)
      for (const [call] of text.matchAll(/parseBoolean\([^()]*\([^()]*\),\s*(?:true|false)\)/g)) written.push(`${file}: ${call}`)
    }
    expect(written).toEqual([])
  })
})

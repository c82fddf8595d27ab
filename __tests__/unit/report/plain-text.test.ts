// Text from outside made inert for a log the GitHub runner reads: no control
// or invisible character, no line that is a workflow command once the runner
// has split it at `\r`/`\n` and trimmed it, and JSON that keeps its value.
import { describe, expect, it } from '@jest/globals'
import { inertJson, inertOutput, inertText, plainText } from '../../../src/report/plain-text.js'
import { readAsRunner } from '../../support/runner-reading.js'

const FORGED = 'boom\r::stop-commands::x\r::error title=Deploy OK::forged\r::add-mask::hunter22\n'

describe('plainText', () => {
  it('removes C0 (but tab and newline), DEL, C1, separators, bidi controls and zero-width characters', () => {
    const text = 'a\u0000\u0007\r\u000b\u000c\u001b[31mb\u007f\u0085\u009bc\u2028\u2029d\u202a\u202e\u2066\u2069e\u200b\u200d\ufeff\u00adf\tg\nh'
    expect(plainText(text)).toBe('a[31mbcdef\tg\nh')
  })

  it('keeps what is visible: accents, emoji, CJK, a no-break space', () => {
    expect(plainText('café 🚀 日本 a\u00a0b')).toBe('café 🚀 日本 a\u00a0b')
  })
})

describe('inertText', () => {
  it('leaves no workflow command in a container log line with \\r-separated commands, and keeps the text', () => {
    const { commands, text } = readAsRunner(inertText(`    | ${FORGED}`))
    expect(commands).toEqual([])
    expect(text.join('\n')).toContain('::error title=Deploy OK::forged')
    expect(text.join('\n')).toContain('::add-mask::hunter22')
  })

  it.each([
    ['a line of its own', '::error::x'],
    ['an indentation the runner trims', '    ::error::x'],
    ['a tab', '\t::error::x'],
    ['a no-break space (trimmed by .NET)', '\u00a0\u3000::error::x'],
    ['NEL', '\u0085::error::x'],
    ['a line separator', 'text\u2028::error::x'],
    ['a zero-width space', '\u200b::error::x'],
    ['a carriage return', 'text\r  ::error::x'],
    ['the legacy form anywhere in a line', 'text ##[error]x'],
    ['the legacy form after a broken one', '###[error]x ##[##[add-mask]y']
  ])('guards %s', (_what, line) => {
    const inert = inertText(line)
    expect(readAsRunner(inert).commands).toEqual([])
    // What it said is still there to read.
    expect(inert).toMatch(/error\]?:*x/)
  })

  it('puts a visible marker in front of a line that would start with ::, keeping its indentation', () => {
    expect(inertText('one\n  ::warning::two\n::three')).toBe('one\n  \\::warning::two\n\\::three')
    expect(inertText('see ##[group]x')).toBe('see ##\\[group]x')
  })

  it('changes nothing in ordinary text, and nothing more a second time', () => {
    const ordinary = 'Stack web: converged\n  web 2/2 (replicated): running\n| GET /health 200 [ok] # done'
    expect(inertText(ordinary)).toBe(ordinary)
    const once = inertText(FORGED)
    expect(inertText(once)).toBe(once)
  })
})

describe('inertJson and inertOutput', () => {
  it('keeps the value of JSON while no line of it is a command', () => {
    const value = { message: `${FORGED} ##[error]x \u2028::warning::y \u0085 \u202e` }
    const json = inertJson(JSON.stringify(value))
    expect(JSON.parse(json)).toEqual(value)
    expect(readAsRunner(json).commands).toEqual([])
    expect(json).not.toMatch(/[\u0085\u2028\u202e]/)
  })

  it('treats what parses as JSON as JSON, and anything else as text', () => {
    const value = [{ release: '##[error]x' }]
    expect(JSON.parse(inertOutput(JSON.stringify(value) + '\n'))).toEqual(value)
    expect(inertOutput('Stack x:\r::error::y\n::z\n')).toBe('Stack x:::error::y\n\\::z\n')
  })
})

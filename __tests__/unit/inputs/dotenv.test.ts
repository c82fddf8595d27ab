import { describe, expect, it } from '@jest/globals'
import { dotenvPath, parseDotenv } from '../../../src/inputs/dotenv.js'

describe('parseDotenv', () => {
  it('reads the forms compose reads without a shell', () => {
    const text = [
      '# a comment',
      '',
      'GREETING=hello world',
      'export REGION=eu-west-1',
      "SINGLE='kept $AS written'",
      'DOUBLE="two\\nlines \\"quoted\\""',
      'INLINE=value # a comment',
      'HASH=a#b',
      'EMPTY=',
      '  SPACED = padded  '
    ].join('\n')
    expect([...parseDotenv('app/.env', text)]).toEqual([
      ['GREETING', 'hello world'],
      ['REGION', 'eu-west-1'],
      ['SINGLE', 'kept $AS written'],
      ['DOUBLE', 'two\nlines "quoted"'],
      ['INLINE', 'value'],
      ['HASH', 'a#b'],
      ['EMPTY', ''],
      ['SPACED', 'padded']
    ])
  })

  it.each([
    ['NOEQUALS', "line 1: has no '='"],
    ['1X=a', "line 1: the name before '=' is not valid"],
    ['A=${B}', 'line 1: refers to another variable ($)'],
    ['A="x $B"', 'line 1: refers to another variable ($)'],
    ['A="open', 'line 1: a quoted value must end on its line'],
    ["A='x' y", 'line 1: has text after the closing quote']
  ])('refuses %p by line number, never echoing it', (text, message) => {
    expect(() => parseDotenv('.env', text)).toThrow(`compose-file: .env ${message}`)
  })

  it('is the .env of the first compose file’s folder', () => {
    expect(dotenvPath(['deploy/compose.yaml', 'other/x.yml'])).toBe('deploy/.env')
    expect(dotenvPath(['compose.yaml'])).toBe('.env')
    expect(dotenvPath([])).toBeUndefined()
  })
})

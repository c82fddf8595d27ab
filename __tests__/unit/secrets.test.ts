// The length policy of src/secrets.ts and the encoded forms it redacts.
import { describe, expect, it } from '@jest/globals'
import { encodedForms, goQuoted, maskedParts, reachOf, redact, redactStrings, Redactor, Secrets } from '../../src/secrets.js'

describe('the length policy', () => {
  it("neither masks nor redacts a value under 4 characters, so Swarm's words stay readable", () => {
    expect(reachOf('a')).toBe('none')
    expect(reachOf('abc')).toBe('none')
    expect(maskedParts('a')).toEqual([])
    expect(redact('task: non-zero exit (137): dockerexec: unhealthy container', ['a'])).toBe('task: non-zero exit (137): dockerexec: unhealthy container')
    expect(redact('no suitable node (scheduling constraints not satisfied on 2 nodes)', ['o', '3', 'e'])).toBe(
      'no suitable node (scheduling constraints not satisfied on 2 nodes)'
    )
  })

  it('redacts a value of 4 to 7 characters on word boundaries only, and never gives it to the runner', () => {
    expect(reachOf('prod')).toBe('words')
    expect(reachOf('1234567')).toBe('words')
    expect(maskedParts('prod')).toEqual([])
    expect(redact('env=prod, production, prod_db, reprod, (prod)', ['prod'])).toBe('env=***, production, prod_db, reprod, (***)')
    expect(redact('PIN 123456 in A123456 and 123456789', ['123456'])).toBe('PIN *** in A123456 and 123456789')
    // Unicode letters are word characters too.
    expect(redact('ünïprod prod', ['prod'])).toBe('ünïprod ***')
  })

  it('redacts a value of 8 characters or more everywhere, and masks it', () => {
    expect(reachOf('12345678')).toBe('anywhere')
    expect(maskedParts('hunter2-password')).toEqual(['hunter2-password'])
    expect(redact('xhunter2-passwordx', ['hunter2-password'])).toBe('x***x')
  })

  it('judges each line of a multi-line value on its own', () => {
    const key = '-----BEGIN KEY-----\nabcdefghijklmnop\nab\n-----END KEY-----'
    expect(maskedParts(key)).toEqual([key, '-----BEGIN KEY-----', 'abcdefghijklmnop', '-----END KEY-----'])
    expect(redact('line abcdefghijklmnop and ab', [key])).toBe('line *** and ab')
  })

  it('warns once about a value too short to hide, naming it, never the value', () => {
    const told: string[] = []
    const warned: string[] = []
    const secrets = new Secrets({ secret: value => void told.push(value), warn: line => void warned.push(line) })
    secrets.add('7', 'env REPLICAS')
    secrets.add('7', 'env REPLICAS')
    secrets.add('abcd', 'env SHORT')
    secrets.add('long-enough-secret', 'env LONG')
    expect(told).toEqual(['abcd', 'long-enough-secret'])
    expect(warned).toHaveLength(1)
    expect(warned[0]).toMatch(/^env REPLICAS: the value is shorter than 4 characters, so it is neither masked nor redacted/)
    expect(warned[0]).not.toMatch(/7/)
    expect(secrets.list()).toEqual(['abcd', 'long-enough-secret'])
  })
})

describe('encoded forms', () => {
  const secret = `p"w\\<&>\n\tü-${'x'.repeat(4)}`
  it('redacts the JSON, Go-quoted, URL-encoded and base64 forms the runner masks', () => {
    const go = `p\\"w\\\\<&>\\n\\tü-xxxx`
    const goJson = 'p\\"w\\\\\\u003c\\u0026\\u003e\\n\\tü-xxxx'
    const texts = [
      `json: ${JSON.stringify({ v: secret })}`,
      `go json: {"v":"${goJson}"}`,
      `go %q: invalid value "${go}"`,
      `url: ?v=${encodeURIComponent(secret)}&x=1`,
      `form: ?v=${encodeURIComponent(secret).replace(/%20/g, '+')}`
    ]
    for (const text of texts) expect(redact(text, [secret])).not.toMatch(/xxxx/)
    expect(encodedForms(secret)).toEqual(expect.arrayContaining([go, goJson]))
  })

  // The cases of Go's own strconv tests (quote_test.go, example_test.go): [input, Quote (%q), QuoteToASCII (%+q)].
  it.each([
    ['\x07\b\f\r\n\t\v', String.raw`\a\b\f\r\n\t\v`, String.raw`\a\b\f\r\n\t\v`],
    ['\\', String.raw`\\`, String.raw`\\`],
    ['\u263a', '\u263a', String.raw`\u263a`],
    ['\u{10ffff}', String.raw`\U0010ffff`, String.raw`\U0010ffff`],
    ['\x04', String.raw`\x04`, String.raw`\x04`],
    ['\x7f', String.raw`\x7f`, String.raw`\x7f`],
    ['!\u00a0!\u2000!\u3000!', String.raw`!\u00a0!\u2000!\u3000!`, String.raw`!\u00a0!\u2000!\u3000!`],
    ['\u00ff', '\u00ff', String.raw`\u00ff`],
    ['\ufffd', '\ufffd', String.raw`\ufffd`],
    ['\u20ac\u{1f438}', '\u20ac\u{1f438}', String.raw`\u20ac\U0001f438`],
    [`"Fran & Freddie's Diner\t\u263a"`, String.raw`\"Fran & Freddie's Diner\t` + '\u263a\\"', String.raw`\"Fran & Freddie's Diner\t\u263a\"`],
    ['a\u200bb\ufeffc\u00add', String.raw`a\u200bb\ufeffc\u00add`, String.raw`a\u200bb\ufeffc\u00add`]
  ])('quotes %j as Go does', (input, quoted, ascii) => {
    expect(goQuoted(input, false)).toBe(quoted)
    expect(goQuoted(input, true)).toBe(ascii)
  })

  it("redacts a secret in Go's %q and %+q quoting of invisible and non-ASCII runes", () => {
    for (const secret of ['nbsp\u00a0secret', 'zero\u200bwidth-secret', '\ufeffbom-secret', 'emoji-\u{1f600}-secret', 'caf\u00e9-secret']) {
      const ascii = [...secret]
        .map(c =>
          c.codePointAt(0)! < 0x80
            ? c
            : c.codePointAt(0)! > 0xffff
              ? `\\U${c.codePointAt(0)!.toString(16).padStart(8, '0')}`
              : `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`
        )
        .join('')
      const printable = secret.replace(/[\u00a0\u200b\ufeff]/g, c => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`)
      expect(redact(`invalid env "${printable}": refused`, [secret])).toBe('invalid env "***": refused')
      expect(redact(`invalid env "${ascii}": refused`, [secret])).toBe('invalid env "***": refused')
    }
  })

  it('finds base64 of a value wherever it starts in a longer base64 text', () => {
    const password = 'hunter2-password'
    for (const prefix of ['', 'u:', 'us:', 'use:', 'user:']) {
      const encoded = Buffer.from(`${prefix}${password}-tail`).toString('base64')
      const clean = redact(`auth ${encoded}`, [password])
      expect(clean).toContain('***')
      // What is left decodes to nothing of the password.
      expect(Buffer.from(clean.slice(5).replace(/\*+/g, ''), 'base64').toString('latin1')).not.toContain('hunter2')
    }
  })

  it('redacts every string of a JSON value, keys aside', () => {
    const services = [{ name: 'shop_web', image: 'registry/private-token-x:1@sha256:ab', nodes: ['n1'], running: 1, updateState: null }]
    expect(redactStrings(services, text => redact(text, ['private-token-x']))).toEqual([
      { name: 'shop_web', image: 'registry/***:1@sha256:ab', nodes: ['n1'], running: 1, updateState: null }
    ])
  })

  it('lets a value hidden anywhere win over the same text hidden as a word', () => {
    const redactor = new Redactor()
    redactor.add('abcd')
    redactor.add('xabcdx-long\nabcd')
    expect(redactor.redact('zabcdz')).toBe('zabcdz')
    expect(redactor.redact('xabcdx-long')).toBe('***')
    expect(redactor.redactWords('env abcd')).toBe('env ***')
  })
})

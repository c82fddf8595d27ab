import { describe, expect, it } from '@jest/globals'
import { composeVariableProblems, referencedNames } from '../../../src/deploy/stack-deploy.js'
import { checkVariables, findBareEnvironment, findEnvironmentUses, findVariables, type VariableRef } from '../../../src/deploy/variables.js'
import { credentialWarnings } from '../../../src/plan.js'

// The parts of a reference most tests care about.
const brief = (refs: VariableRef[]) => refs.map(r => [r.name, r.form, r.colon, ...(r.message === undefined ? [] : [r.message])])
const names = (text: string) => findVariables(text, 'c.yml').map(r => r.name)
const check = (text: string, values: Record<string, string> = {}) => checkVariables(findVariables(text, 'c.yml'), new Map(Object.entries(values)))

describe('findVariables', () => {
  it('reads every form', () => {
    const text = 'v: $A ${B} ${C:-d} ${D-d} ${E:?need E} ${F?} ${G:+alt} ${H+alt}'
    expect(brief(findVariables(text, 'c.yml'))).toEqual([
      ['A', 'plain', false],
      ['B', 'plain', false],
      ['C', 'default', true],
      ['D', 'default', false],
      ['E', 'required', true, 'need E'],
      ['F', 'required', false, ''],
      ['G', 'alternate', true],
      ['H', 'alternate', false]
    ])
  })

  it('records file, line and column', () => {
    const text = 'services:\n  api:\n    image: $IMAGE\r\n    environment:\n      DB: "x${DB_PASSWORD}"\n'
    expect(findVariables(text, 'stack/prod.yml')).toEqual([
      { name: 'IMAGE', file: 'stack/prod.yml', line: 3, column: 12, form: 'plain', colon: false },
      { name: 'DB_PASSWORD', file: 'stack/prod.yml', line: 5, column: 13, form: 'plain', colon: false }
    ])
  })

  it('reads names as [A-Za-z_][A-Za-z0-9_]*, case-sensitively', () => {
    expect(names('$a_1-x $_ $Ab.c ${lower} $ABC$DEF url/$X/y')).toEqual(['a_1', '_', 'Ab', 'lower', 'ABC', 'DEF', 'X'])
  })

  it('treats $$ as a literal $', () => {
    expect(names('a: $$ $$X $${Y} $$$Z $$$$W "$$(date)"')).toEqual(['Z'])
  })

  it('counts columns in characters around unicode', () => {
    const [ref] = findVariables('ü: "🚀—$X"', 'c.yml')
    expect(ref).toMatchObject({ name: 'X', column: 7 })
    expect(names('é$Xé ${Y}ñ ✓$Z✓ ${ÜBER:-x}')).toEqual(['X', 'Y', 'Z', ''])
  })

  it('reports nested references with the one they sit in', () => {
    const [a, b, c] = findVariables('v: ${A:-${B:-$C}}', 'c.yml')
    expect(brief([a!, b!, c!])).toEqual([
      ['A', 'default', true],
      ['B', 'default', true],
      ['C', 'plain', false]
    ])
    expect(a!.outer).toBeUndefined()
    expect(b!.outer).toBe(a)
    expect(c!.outer).toBe(b)
    expect(c!.column).toBe(14)
  })

  it('keeps a required message as written, nested references and all', () => {
    const refs = findVariables('v: ${A:?set A, e.g. $EXAMPLE} tail}', 'c.yml')
    expect(brief(refs)).toEqual([
      ['A', 'required', true, 'set A, e.g. $EXAMPLE'],
      ['EXAMPLE', 'plain', false]
    ])
  })

  it('ends a default at the first } that is not part of a nested reference', () => {
    const refs = findVariables('v: ${A:-{x}} $B', 'c.yml')
    expect(brief(refs)).toEqual([
      ['A', 'default', true],
      ['B', 'plain', false]
    ])
  })

  it.each([['${}'], ['${1X}'], ['${X'], ['${X:-unterminated'], ['${X:}'], ['${X/a/b}'], ['${ X}'], ['$1'], ['cost: 5$'], ['$-x'], ['"$ "'], ['${Ü}']])(
    'marks %p as invalid',
    text => {
      expect(findVariables(text, 'c.yml').filter(r => r.name === '')).toHaveLength(1)
    }
  )

  describe('comments', () => {
    it('ignores references in comments', () => {
      expect(names('# $A\n  # ${B}\nimage: x # ${C}\nimage: x\t#$D\n#\n')).toEqual([])
    })

    it('needs whitespace or line start before #', () => {
      expect(names('url: http://h/#${A}\nv: a#$B\nv: $C#x')).toEqual(['A', 'B', 'C'])
    })

    it('keeps # inside quotes, and comments after them', () => {
      const text = [
        `a: "x # \${A}" # \${NO1}`,
        `b: 'it''s # \${B}' # \${NO2}`,
        `c: "esc \\" # \${C}" # \${NO3}`,
        `d: ["x # \${D}", 'y # \${E}'] # \${NO4}`,
        `e: it's # \${NO5}`,
        `f: say "hi # \${NO6}`
      ].join('\n')
      expect(names(text)).toEqual(['A', 'B', 'C', 'D', 'E'])
    })

    it('follows a quoted scalar over lines', () => {
      expect(names('a: "one # $A\n  two # $B" # $NO\nb: $C')).toEqual(['A', 'B', 'C'])
    })

    it('keeps # inside block scalars, until the block ends', () => {
      const text = [
        'services:',
        '  api:',
        '    command: |',
        '      echo one # $A',
        '',
        '        # $B',
        '    entrypoint: >-',
        '      # $C',
        '    image: x # $NO1',
        '    args:',
        '      - |',
        '        # $D',
        '      - y # $NO2'
      ].join('\n')
      expect(findVariables(text, 'c.yml').map(r => [r.name, r.line])).toEqual([
        ['A', 4],
        ['B', 6],
        ['C', 8],
        ['D', 12]
      ])
    })
  })
})

describe('checkVariables', () => {
  const unset = (name: string, line = 1) =>
    `compose-file: c.yml line ${line} uses \${${name}}, which is not set: add ${name}=… to the env input, to env-file or to .env beside the compose file, or give a default like \${${name}:-value}`

  it('is empty when every reference has a value', () => {
    expect(check('a: $A ${B} ${C:?m}', { A: '1', B: '2', C: '3' })).toEqual([])
    expect(check('')).toEqual([])
  })

  it('rejects an unset plain reference, in either spelling', () => {
    expect(check('a: $DB_PASSWORD')).toEqual([unset('DB_PASSWORD')])
    expect(check('a: ${DB_PASSWORD}')).toEqual([unset('DB_PASSWORD')])
  })

  it('accepts an empty value for a plain reference: empty is set', () => {
    expect(check('a: $A ${B}', { A: '', B: '' })).toEqual([])
  })

  it('matches names case-sensitively', () => {
    expect(check('a: $Db', { DB: 'x', db: 'y' })).toEqual([unset('Db')])
  })

  it('never fails default forms', () => {
    expect(check('a: ${A:-x} ${B-x}')).toEqual([])
    expect(check('a: ${A:-x} ${B-x}', { A: '', B: '' })).toEqual([])
  })

  it('refuses alternate forms, which docker stack deploy cannot parse', () => {
    expect(check('a: ${C:+x} ${D+x}', { C: 'v', D: 'v' })).toEqual([
      'compose-file: c.yml line 1: ${C:+…} is not supported by docker stack deploy (it fails with "invalid interpolation format"): use ${C:-default} or set the value in the env input',
      'compose-file: c.yml line 1: ${D+…} is not supported by docker stack deploy (it fails with "invalid interpolation format"): use ${D:-default} or set the value in the env input'
    ])
  })

  it('rejects required references unset, or empty for :?', () => {
    expect(check('a: ${A:?set the API key}')).toEqual(['compose-file: c.yml line 1: ${A} is required: set the API key'])
    expect(check('a: ${A?}')).toEqual(['compose-file: c.yml line 1: ${A} is required'])
    expect(check('a: ${A:?}', { A: '' })).toEqual(['compose-file: c.yml line 1: ${A} is required'])
    expect(check('a: ${A?must be set}', { A: '' })).toEqual([])
    expect(check('a: ${A:?m}', { A: 'v' })).toEqual([])
  })

  describe('nested references', () => {
    const nested = (name: string, outer: string, part = 'default'): string =>
      `compose-file: c.yml line 1: \${${name}} sits in the ${part} of \${${outer}}, and docker stack deploy does not expand nested references (it would deploy the text literally): set ${outer} in the env input instead`

    it('are refused in a default or an alternate, whatever the values', () => {
      expect(check('a: ${A:-${B}}', { A: 'x', B: 'y' })).toEqual([nested('B', 'A')])
      expect(check('a: ${A-$B}')).toEqual([nested('B', 'A')])
      expect(check('a: ${A:+$B}', { A: 'x', B: 'y' })).toEqual([expect.stringContaining('${A:+…} is not supported'), nested('B', 'A', 'alternate value')])
    })

    it('are plain text in a required message', () => {
      expect(check('a: ${A:?see $DOCS}')).toEqual(['compose-file: c.yml line 1: ${A} is required: see $DOCS'])
      expect(check('a: ${A:?see $DOCS}', { A: 'x' })).toEqual([])
    })
  })

  it('rejects invalid references wherever they are, by line and column only', () => {
    const errors = check('a: ok\nb: "${A:-x} ${1SECRET}"\nc: 5$\nd: ${A:-${}}')
    expect(errors).toEqual([
      'compose-file: c.yml line 2 column 13: invalid interpolation: use $NAME, ${NAME}, ${NAME:-default} or ${NAME:?message}, and write $$ for a literal $',
      'compose-file: c.yml line 3 column 5: invalid interpolation: use $NAME, ${NAME}, ${NAME:-default} or ${NAME:?message}, and write $$ for a literal $',
      'compose-file: c.yml line 4 column 9: invalid interpolation: use $NAME, ${NAME}, ${NAME:-default} or ${NAME:?message}, and write $$ for a literal $'
    ])
  })

  it('reports each name once per file, at its first failing line, files in the order given', () => {
    const refs = [...findVariables('x: ${B:-ok}\ny: $B\nz: ${A:?first}\nw: $A\nv: $B', 'prod.yml'), ...findVariables('a: $B\nb: ${A}', 'base.yml')]
    expect(checkVariables(refs, new Map())).toEqual([
      'compose-file: prod.yml line 2 uses ${B}, which is not set: add B=… to the env input, to env-file or to .env beside the compose file, or give a default like ${B:-value}',
      'compose-file: prod.yml line 3: ${A} is required: first',
      'compose-file: base.yml line 1 uses ${B}, which is not set: add B=… to the env input, to env-file or to .env beside the compose file, or give a default like ${B:-value}',
      'compose-file: base.yml line 2 uses ${A}, which is not set: add A=… to the env input, to env-file or to .env beside the compose file, or give a default like ${A:-value}'
    ])
  })

  it('sorts by line whatever order the references come in', () => {
    const refs = findVariables('a: $A\nb: $B\nc: $C', 'c.yml').reverse()
    expect(checkVariables(refs, new Map())).toEqual([unset('A', 1), unset('B', 2), unset('C', 3)])
  })

  it('never includes a value', () => {
    const secret = 'hunter2-§ü'
    const values = { SET: secret, EMPTY: '', OTHER: secret }
    const text = 'a: ${EMPTY:?empty} $SET ${SET:?m} $MISSING ${OTHER:-${MISSING2}} ${SET:+${ALT}} ${EMPTY?x}'
    const errors = check(text, values)
    expect(errors).toEqual([
      'compose-file: c.yml line 1: ${EMPTY} is required: empty',
      unset('MISSING'),
      expect.stringMatching(/^compose-file: c\.yml line 1: \$\{MISSING2\} sits in the default of \$\{OTHER\}/),
      expect.stringMatching(/^compose-file: c\.yml line 1: \$\{SET:\+…\} is not supported/),
      expect.stringMatching(/^compose-file: c\.yml line 1: \$\{ALT\} sits in the alternate value of \$\{SET\}/)
    ])
    for (const error of errors) expect(error).not.toContain('hunter2')
  })

  it('checks a realistic compose file', () => {
    const text = [
      'services:',
      '  api:',
      '    image: ${IMAGE}',
      '    environment:',
      '      DATABASE_URL: "postgres://app:${DB_PASSWORD:?set DB_PASSWORD in secrets}@db/app"',
      '      LOG_LEVEL: ${LOG_LEVEL:-info}',
      '      PRICE: "$$5"',
      '      # TODO: ${UNUSED}',
      '    command: >',
      '      sh -c "run --token $API_TOKEN"',
      '    deploy:',
      '      replicas: ${REPLICAS-2} # ${NOT_A_REF}'
    ].join('\n')
    expect(check(text, { IMAGE: 'r/api:1', DB_PASSWORD: 'pw' })).toEqual([unset('API_TOKEN', 10)])
    expect(check(text, { IMAGE: 'r/api:1', DB_PASSWORD: '', API_TOKEN: 't' })).toEqual([
      'compose-file: c.yml line 5: ${DB_PASSWORD} is required: set DB_PASSWORD in secrets'
    ])
  })
})

// Docker reads compose files as YAML 1.1, where `<<` merges maps: a service's
// environment may come from an anchor (`x-env: &env`) through `<<: *env`, or
// the whole service from a template (`<<: *common`).
describe('YAML merge keys', () => {
  const text = [
    'x-env: &env',
    '  DB_PASSWORD:',
    '  LOG_LEVEL: info',
    '  SHARED_TOKEN: ${SHARED_TOKEN}',
    'x-common: &common',
    '  image: app',
    '  environment:',
    '    - API_TOKEN',
    'services:',
    '  web:',
    '    image: app',
    '    environment:',
    '      <<: *env',
    '      MODE: web',
    '  worker:',
    '    <<: *common',
    '  api:',
    '    image: app',
    '    environment:',
    '      <<: [*env, {SESSION_SECRET: }]',
    '      DB_PASSWORD: set-here',
    '  own:',
    '    <<: *common',
    '    environment: {MODE: own}'
  ].join('\n')
  const files = [{ path: 'c.yml', text }]

  it('finds the bare names a merge brings into environment:, and no name an own key overrides', () => {
    expect(findBareEnvironment(text, 'c.yml').map(r => [r.name, r.line])).toEqual(
      expect.arrayContaining([
        ['DB_PASSWORD', 2],
        ['API_TOKEN', 8],
        ['SESSION_SECRET', 20]
      ])
    )
    const uses = findEnvironmentUses(text, 'c.yml').map(u => `${u.service} ${u.name}`)
    expect(uses.sort()).toEqual(['api SESSION_SECRET', 'api SHARED_TOKEN', 'web DB_PASSWORD', 'web SHARED_TOKEN', 'worker API_TOKEN'])
  })

  it('reports a missing variable named bare through a merge', () => {
    const problems = composeVariableProblems(files, new Map([['SHARED_TOKEN', 'shared-token-value']]))
    expect(problems).toEqual([
      expect.stringMatching(/^compose-file: c\.yml line 2: environment entry DB_PASSWORD has no value/),
      expect.stringMatching(/^compose-file: c\.yml line 8: environment entry API_TOKEN has no value/),
      expect.stringMatching(/^compose-file: c\.yml line 20: environment entry SESSION_SECRET has no value/)
    ])
  })

  it('registers the names a merge brings in, so their passthrough values are secret', () => {
    expect([...referencedNames(files)]).toEqual(expect.arrayContaining(['DB_PASSWORD', 'API_TOKEN', 'SESSION_SECRET', 'SHARED_TOKEN']))
  })

  it('warns about a credential put into environment: through a merge', () => {
    const env = new Map([
      ['DB_PASSWORD', 'a-long-db-password'],
      ['API_TOKEN', 'a-long-api-token']
    ])
    const [warning] = credentialWarnings([{ path: 'c.yml', text }] as never, env)
    expect(warning).toContain('DB_PASSWORD (service web, c.yml line 2)')
    expect(warning).toContain('API_TOKEN (service worker, c.yml line 8)')
  })

  it('follows a merge that reaches itself no further', () => {
    const looped = [
      'x-a: &a',
      '  environment: [LOOP_NAME]',
      'services:',
      '  s: &s',
      '    <<: [*a, *s]',
      '  t:',
      '    environment: &e {<<: *e, OWN_NAME: }'
    ].join('\n')
    expect(findBareEnvironment(looped, 'c.yml').map(r => r.name)).toEqual(['LOOP_NAME', 'OWN_NAME'])
  })
})

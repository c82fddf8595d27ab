import { describe, expect, it } from '@jest/globals'
import * as YAML from 'yaml'
import { contentHash, isVersionOf, namesInUse, renderStackObjects } from '../../../src/deploy/stack-objects.js'
import { composeVariableProblems, interpolationValues, renderedPath, swarmNameProblems } from '../../../src/deploy/stack-deploy.js'

const compose = `version: "3.8"
services:
  web:
    image: \${IMAGE}
    secrets: [db_password, tls_key]
    configs: [site]
secrets:
  db_password:
    environment: DB_PASSWORD   # from a GitHub secret
  tls_key:
    file: ./tls.key
  legacy:
    external: true
configs:
  site:
    file: site.conf
`

describe('renderStackObjects', () => {
  const secretKey = Buffer.from('k')
  const values = new Map([
    ['DB_PASSWORD', 's3cr3t\'"$(id)'],
    ['IMAGE', 'x']
  ])
  const sources: Record<string, string> = { 'app/tls.key': 'KEY', 'app/site.conf': 'listen 80' }
  // Sources resolve against app/, the folder of the (first) compose file.
  const readSource = (file: string) => {
    const full = `app/${file.replace(/^\.\//, '')}`
    return full in sources ? Buffer.from(sources[full]!) : undefined
  }

  it('turns environment sources into external secrets and names every version by its content', () => {
    const { files, objects } = renderStackObjects([{ path: 'app/docker-compose.yml', text: compose }], { stack: 'shop', values, readSource, secretKey })
    const dbName = `shop_db_password_${contentHash('s3cr3t\'"$(id)', secretKey)}`
    // Keyed: the public name is not the bare hash of the value.
    expect(dbName).not.toBe(`shop_db_password_${contentHash('s3cr3t\'"$(id)')}`)
    expect(objects).toEqual([
      { kind: 'secret', key: 'db_password', name: dbName, data: Buffer.from('s3cr3t\'"$(id)') },
      { kind: 'secret', key: 'tls_key', name: `shop_tls_key_${contentHash('KEY', secretKey)}`, data: undefined },
      { kind: 'config', key: 'site', name: `shop_site_${contentHash('listen 80')}`, data: undefined }
    ])
    const text = files[0]!.text!
    // The rewritten file names versions; it never holds the value.
    expect(text).not.toContain('s3cr3t')
    const doc = YAML.parse(text)
    expect(doc.secrets).toEqual({
      db_password: { external: true, name: dbName },
      tls_key: { file: './tls.key', name: `shop_tls_key_${contentHash('KEY', secretKey)}` },
      legacy: { external: true }
    })
    expect(doc.configs.site).toEqual({ file: 'site.conf', name: `shop_site_${contentHash('listen 80')}` })
    expect(doc.services.web.image).toBe('${IMAGE}')
  })

  it('changes the name when the content changes, and leaves files without objects alone', () => {
    const a = renderStackObjects([{ path: 'app/c.yml', text: compose }], { stack: 'shop', values, readSource, secretKey }).objects[0]!.name
    const b = renderStackObjects([{ path: 'app/c.yml', text: compose }], { stack: 'shop', values: new Map([['DB_PASSWORD', 'other']]), readSource, secretKey })
      .objects[0]!.name
    expect(a).not.toBe(b)
    expect(renderStackObjects([{ path: 'x.yml', text: 'services: {}\n' }], { stack: 's', values, readSource, secretKey }).files).toEqual([
      { path: 'x.yml', text: undefined }
    ])
  })

  it('names the variable, never the value, when an environment source is missing', () => {
    expect(() => renderStackObjects([{ path: 'app/c.yml', text: compose }], { stack: 'shop', values: new Map(), readSource, secretKey })).toThrow(
      'compose-file: app/c.yml: secret db_password takes its value from DB_PASSWORD, which is not set: add DB_PASSWORD=… to the env input, to env-file or to .env beside the compose file'
    )
  })

  // Docker reads compose files with Go's yaml (0400 is octal, yes stays the
  // string "yes", 1:20 a string): the copy must keep every scalar it does
  // not change exactly as written, whatever another YAML version makes of it.
  const modes = `version: "3.8"
services:
  web:
    image: \${IMAGE}
    environment:
      A: yes
      B: no
      C: on
      D: off
      E: 1:20
      F: 012
      G: 1_000
      H: Y
      I: 0x1F
      J: .5
    secrets:
      - source: db_password
        mode: 0400
      - source: tls_key
        mode: 0440
      - source: flow_key
        mode: 0660
    configs:
      - source: site
        mode: 0600
    labels: {a: yes, b: 0400} # a comment
secrets:
  db_password:
    environment: DB_PASSWORD   # from a GitHub secret
  tls_key:
    file: ./tls.key
  flow_key: {file: ./tls.key}
configs:
  site:
    # the site's config
    file: site.conf
    template_driver: golang
`

  it('keeps secret file modes, YAML 1.1 booleans and every other scalar it does not change byte for byte', () => {
    const { files } = renderStackObjects([{ path: 'app/c.yml', text: modes }], { stack: 'shop', values, readSource, secretKey })
    const text = files[0]!.text!
    const original = modes.split('\n')
    const copy = text.split('\n')
    // Everything above the top-level secrets is untouched.
    const services = original.indexOf('secrets:')
    expect(copy.slice(0, services)).toEqual(original.slice(0, services))
    for (const mode of ['0400', '0440', '0660', '0600']) expect(copy).toContain(`        mode: ${mode}`)
    for (const line of ['      A: yes', '      B: no', '      C: on', '      D: off', '      E: 1:20', '      F: 012', '      G: 1_000'])
      expect(copy).toContain(line)
    // Read as YAML 1.1, as the issue puts it: the modes are the octal numbers docker sees.
    const parsed = YAML.parse(text, { version: '1.1' })
    expect(parsed.services.web.secrets.map((s: { mode: number }) => s.mode)).toEqual([0o400, 0o440, 0o660])
    expect(parsed.services.web.configs[0].mode).toBe(0o600)
    expect(parsed.services.web.environment.A).toBe(true)
    // Only the objects changed: environment sources became external, file sources got their version's name.
    const objects = YAML.parse(text)
    expect(objects.secrets).toEqual({
      db_password: { external: true, name: expect.stringMatching(/^shop_db_password_[0-9a-f]{10}$/) },
      tls_key: { file: './tls.key', name: expect.stringMatching(/^shop_tls_key_[0-9a-f]{10}$/) },
      flow_key: { file: './tls.key', name: expect.stringMatching(/^shop_flow_key_[0-9a-f]{10}$/) }
    })
    expect(objects.configs.site).toEqual({ file: 'site.conf', template_driver: 'golang', name: expect.stringMatching(/^shop_site_[0-9a-f]{10}$/) })
    expect(text).toContain("    # the site's config\n")
  })

  it("quotes version names, which Go's yaml could otherwise read as numbers", () => {
    const text = 'secrets:\n  "2":\n    file: ./tls.key\n'
    const { files, objects } = renderStackObjects([{ path: 'app/c.yml', text }], { stack: '1', values, readSource, secretKey })
    expect(files[0]!.text).toContain(`name: "${objects[0]!.name}"`)
  })

  it('keeps CRLF line ends', () => {
    const text = 'secrets:\r\n  tls_key:\r\n    file: ./tls.key\r\nservices:\r\n  web:\r\n    image: x\r\n'
    const rendered = renderStackObjects([{ path: 'app/c.yml', text }], { stack: 'shop', values, readSource, secretKey }).files[0]!.text!
    expect(rendered.replace(/\r\n/g, '')).not.toContain('\n')
  })

  it('tells our versions apart and finds what current and rollback specs use', () => {
    expect(isVersionOf('shop', `shop_db_password_${contentHash('x')}`)).toBe(true)
    expect(isVersionOf('shop', 'shop_db_password')).toBe(false)
    expect(isVersionOf('shop', `other_x_${contentHash('x')}`)).toBe(false)
    const spec = (s: string, c: string) => ({ TaskTemplate: { ContainerSpec: { Secrets: [{ SecretName: s }], Configs: [{ ConfigName: c }] } } })
    expect([...namesInUse([{ Spec: spec('s2', 'c2'), PreviousSpec: spec('s1', 'c1') }])].sort()).toEqual(['c1', 'c2', 's1', 's2'])
  })
})

describe('compose variables before a deploy', () => {
  it('takes env over passed-through runner variables, and only those asked for', () => {
    const values = interpolationValues(new Map([['A', 'env']]), ['A', 'B', 'MISSING'], { A: 'runner', B: 'b', C: 'c' })
    expect([...values]).toEqual([
      ['A', 'env'],
      ['B', 'b']
    ])
    expect(interpolationValues(new Map(), [], { C: 'c' }).size).toBe(0)
  })

  it('reports a referenced variable that nothing sets, naming file and variable', () => {
    const problems = composeVariableProblems(
      [{ path: 'docker-compose.yml', text: 'services:\n  web:\n    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n' }],
      new Map()
    )
    expect(problems).toEqual([expect.stringMatching(/^compose-file: docker-compose.yml line 4 uses \$\{DB_PASSWORD\}, which is not set/)])
  })

  // docker fills a bare name from its own environment, where only the env input is: unset, the service gets no value.
  it('treats bare environment names as references: list entries and null map values', () => {
    const text = [
      'services:',
      '  web:',
      '    environment:',
      '      - JWT_SECRET',
      '      - "QUOTED_NAME"',
      '      - SET_HERE=value',
      '      - EMPTY=',
      '      - FROM_ENV',
      '  worker:',
      '    environment:',
      '      API_KEY:',
      '      TILDE: ~',
      '      NULL_WORD: null',
      '      EMPTY_STRING: ""',
      '      PLAIN: text',
      '      FROM_ENV:',
      '  other:',
      '    environment: [FLOW_NAME, "A=1"]',
      'x-not-a-service:',
      '  environment: [IGNORED]'
    ].join('\n')
    const problems = composeVariableProblems([{ path: 'c.yml', text }], new Map([['FROM_ENV', 'v']]))
    const bare = (name: string, line: number) =>
      `compose-file: c.yml line ${line}: environment entry ${name} has no value, so docker would fill it from its own environment, where ${name} is not set: add ${name}=… to the env input, to env-file or to .env beside the compose file, or write ${name}=value`
    expect(problems).toEqual([
      bare('JWT_SECRET', 4),
      bare('QUOTED_NAME', 5),
      bare('API_KEY', 11),
      bare('TILDE', 12),
      bare('NULL_WORD', 13),
      bare('FLOW_NAME', 18)
    ])
    // Set (even to ''), nothing to report.
    const all = new Map(['JWT_SECRET', 'QUOTED_NAME', 'API_KEY', 'TILDE', 'NULL_WORD', 'FLOW_NAME', 'FROM_ENV'].map(n => [n, '']))
    expect(composeVariableProblems([{ path: 'c.yml', text }], all)).toEqual([])
  })

  it('reports a bare name once per file, with its other references', () => {
    const text = 'services:\n  web:\n    environment:\n      - TOKEN\n    command: echo ${TOKEN}\n'
    expect(composeVariableProblems([{ path: 'c.yml', text }], new Map())).toEqual([
      expect.stringMatching(/^compose-file: c.yml line 4: environment entry TOKEN has no value/)
    ])
  })

  // Swarm refuses a service or network name over 63 characters only when the
  // CLI creates it, after the networks and services before it.
  it('refuses a service or network name Swarm would refuse', () => {
    const text = (service: string, network = 'back') =>
      `services:\n  ${service}:\n    image: x\nnetworks:\n  ${network}: {}\n  outside:\n    external: true\n    name: ${'o'.repeat(70)}\n`
    const stack = 's'.repeat(40)
    expect(swarmNameProblems([{ path: 'c.yml', text: text('w'.repeat(23)) }], stack)).toEqual([
      `compose-file: c.yml: service ${'w'.repeat(23)} would be named ${stack}_${'w'.repeat(23)}, 64 characters: Swarm allows 63; use a shorter stack or service name`
    ])
    expect(swarmNameProblems([{ path: 'c.yml', text: text('w', 'n'.repeat(30)) }], stack)).toEqual([
      `compose-file: c.yml: network ${'n'.repeat(30)} would be named ${stack}_${'n'.repeat(30)}, 71 characters: Swarm allows 63; use a shorter stack or network name`
    ])
    // 63 is allowed, and external networks keep their own name.
    expect(swarmNameProblems([{ path: 'c.yml', text: text('w'.repeat(22)) }], stack)).toEqual([])
  })

  it('writes a rendered file beside its original', () => {
    expect(renderedPath('deploy/docker-compose.yml', 'ab12')).toBe('deploy/.swarm-deploy-ab12-docker-compose.yml')
    expect(renderedPath('c.yml', 'ab12')).toBe('.swarm-deploy-ab12-c.yml')
  })
})

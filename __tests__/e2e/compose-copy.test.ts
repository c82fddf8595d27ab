// The rewritten compose copy must mean to Docker what the original means,
// apart from the secret and config names it adds: `docker stack config`
// (the docker CLI's own loader, no engine needed) reads both.
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as YAML from 'yaml'
import { renderStackObjects } from '../../src/deploy/stack-objects.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-copy-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// Scalars whose reading differs between YAML 1.1, YAML 1.2 and Go's yaml.
const ORIGINAL = `version: "3.8"
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
      K: 1e3
      L: ~
    secrets:
      - source: db_password
        mode: 0400
      - source: tls_key
        mode: 0440
        uid: "0"
      - source: flow_key
        mode: 0660
    configs:
      - source: site
        mode: 0600
    labels: {a: yes, b: 0400, c: 1:20}
    deploy:
      labels:
        - "x=yes"
      update_config:
        delay: 1m30s
secrets:
  db_password:
    environment: DB_PASSWORD
  tls_key:
    file: ./tls.key
  flow_key: {file: ./tls.key}
configs:
  site:
    file: ./site.conf
`

/** The parts of `docker stack config` output the test reads. */
interface StackConfig {
  services: { web: { secrets: Array<{ mode: number }>; configs: Array<{ mode: number }>; environment: Record<string, string> } }
  secrets: Record<string, { name?: string; external?: boolean }>
  configs: Record<string, { name?: string }>
}

/** What the docker CLI makes of a compose file, as data. */
function stackConfig(file: string): StackConfig {
  const out = execFileSync('docker', ['stack', 'config', '--compose-file', file], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, IMAGE: 'reg/app:1@sha256:' + '0'.repeat(64) },
    encoding: 'utf8'
  })
  return YAML.parse(out) as StackConfig
}

describe('the compose copy', () => {
  it('reads the same to docker stack config as the original, apart from the names it adds', () => {
    writeFileSync(path.join(dir, 'tls.key'), 'KEY')
    writeFileSync(path.join(dir, 'site.conf'), 'listen 80')
    const { files, objects } = renderStackObjects([{ path: 'c.yml', text: ORIGINAL }], {
      stack: 'shop',
      values: new Map([['DB_PASSWORD', 'pw']]),
      readSource: file => Buffer.from(file.endsWith('tls.key') ? 'KEY' : 'listen 80'),
      secretKey: Buffer.from('k')
    })
    writeFileSync(path.join(dir, 'copy.yml'), files[0]!.text!)
    // The docker CLI does not know `environment:` sources (the action creates those secrets): the
    // original as it reads to docker is the same file with that one entry external.
    writeFileSync(path.join(dir, 'original.yml'), ORIGINAL.replace('    environment: DB_PASSWORD\n', '    external: true\n'))

    const expected = stackConfig('original.yml')
    const name = (key: string): string => objects.find(o => o.key === key)!.name
    expected.secrets.db_password!.name = name('db_password')
    expected.secrets.tls_key!.name = name('tls_key')
    expected.secrets.flow_key!.name = name('flow_key')
    expected.configs.site!.name = name('site')
    const copy = stackConfig('copy.yml')
    expect(copy).toEqual(expected)
    // What Docker reads, spelled out: octal modes, strings kept as written.
    expect(copy.services.web.secrets.map(s => s.mode)).toEqual([0o400, 0o440, 0o660])
    expect(copy.services.web.configs[0]!.mode).toBe(0o600)
    expect(copy.services.web.environment).toMatchObject({ A: 'yes', C: 'on', E: '1:20', F: '10', G: '1000' })
    expect(copy.secrets.db_password).toEqual({ name: name('db_password'), external: true })
  })
})

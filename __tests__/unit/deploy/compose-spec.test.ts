// The compose plugin's real output (compose 2.40.3, recorded in
// __tests__/fixtures/compose-spec) made into what `docker stack deploy`
// reads. __tests__/e2e/compose-spec.test.ts has the docker CLI read it.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import * as YAML from 'yaml'
import { composeConfigArgs, composeOnlyFeatures, stackForm } from '../../../src/deploy/compose-spec.js'

const FIXTURES = path.resolve('__tests__/fixtures/compose-spec')
const EXAMPLE = path.resolve('examples/compose-spec')
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8')
const example = (name: string): { path: string; text: string } => ({ path: name, text: readFileSync(path.join(EXAMPLE, name), 'utf8') })
type Service = Record<string, unknown>
const servicesOf = (text: string): Record<string, Service> => (YAML.parse(text) as { services: Record<string, Service> }).services
const nothingExists = (): boolean => false

describe('composeOnlyFeatures', () => {
  it('names what only docker compose reads, by file and line', () => {
    expect(composeOnlyFeatures(['compose.yaml', 'workers.yaml', 'common.yaml'].map(example))).toEqual([
      { file: 'compose.yaml', line: 6, what: 'include:' },
      { file: 'compose.yaml', line: 10, what: 'extends: (service web)' },
      { file: 'compose.yaml', line: 21, what: 'extends: (service debug)' },
      { file: 'compose.yaml', line: 26, what: 'profiles: (service debug)' },
      { file: 'workers.yaml', line: 4, what: 'extends: (service worker)' }
    ])
    expect(composeOnlyFeatures([{ path: 'n.yml', text: 'name: shop\nservices: {}\n' }])).toEqual([{ file: 'n.yml', line: 1, what: 'name:' }])
  })

  it('finds nothing in a file docker stack deploy reads as it is, or one that does not parse', () => {
    expect(composeOnlyFeatures([{ path: 'a.yml', text: fixture('short-forms.compose.yaml') }])).toEqual([])
    expect(composeOnlyFeatures([{ path: 'a.yml', text: 'services: [\n' }])).toEqual([])
  })
})

describe('composeConfigArgs', () => {
  it('merges without interpolating, normalising or reading .env', () => {
    expect(composeConfigArgs(['compose.yaml', 'prod.yaml'], 'shop')).toEqual([
      'compose',
      '--env-file',
      '/dev/null',
      '--project-name',
      'shop',
      '--file',
      'compose.yaml',
      '--file',
      'prod.yaml',
      'config',
      '--no-interpolate',
      '--no-normalize',
      '--format',
      'yaml'
    ])
  })
})

describe('stackForm', () => {
  it('leaves out the services of profiles not enabled, and drops profiles: from the others', () => {
    const plain = stackForm(fixture('example.normalised.yaml'), [], nothingExists)
    expect(plain.services).toEqual(['web', 'worker'])
    expect(plain.leftOut).toEqual(['debug'])
    expect(Object.keys(servicesOf(plain.text))).toEqual(['web', 'worker'])

    const debug = stackForm(fixture('example.normalised.yaml'), ['debug'], nothingExists)
    expect(debug.services).toEqual(['debug', 'web', 'worker'])
    expect(servicesOf(debug.text).debug).not.toHaveProperty('profiles')
    expect(stackForm(fixture('example.normalised.yaml'), ['*'], nothingExists).leftOut).toEqual([])
    expect(stackForm(fixture('example.normalised.yaml'), ['other'], nothingExists).leftOut).toEqual(['debug'])
  })

  it('keeps every ${VAR} reference as written', () => {
    const text = stackForm(fixture('example.normalised.yaml'), [], nothingExists).text
    expect(servicesOf(text).web).toMatchObject({ image: '${BASE_IMAGE}', environment: { GREETING: '${GREETING}', ROLE: 'web' } })
    const variables = servicesOf(stackForm(fixture('variables.normalised.yaml'), [], nothingExists).text).a!
    expect(variables).toMatchObject({ image: '${IMAGE}', ports: ['${PORT:-8080}:80', '${P2}:${P3}'], deploy: { replicas: '${REPLICAS:-2}' } })
  })

  it('gives depends_on as a list and a secret its default target as the short form does', () => {
    const web = servicesOf(stackForm(fixture('example.normalised.yaml'), [], nothingExists).text).web!
    expect(web.depends_on).toEqual(['worker'])
    expect(web.secrets).toEqual([{ source: 'db_password' }])
  })

  it('gives ports as the loader reads them: numbers, a range one per port, no host_ip', () => {
    const a = servicesOf(stackForm(fixture('short-forms.normalised.yaml'), [], nothingExists).text).a!
    expect(a.ports).toEqual([
      { mode: 'ingress', protocol: 'tcp', published: 8080, target: 80 },
      { mode: 'ingress', protocol: 'udp', published: 81, target: 81 },
      { mode: 'ingress', protocol: 'tcp', published: 9000, target: 9000 },
      { mode: 'ingress', protocol: 'tcp', published: 9001, target: 9001 },
      { mode: 'ingress', protocol: 'tcp', published: 8000, target: 80 },
      { mode: 'ingress', protocol: 'tcp', published: 8001, target: 80 },
      { mode: 'ingress', protocol: 'tcp', target: 82 }
    ])
  })

  it('gives env_file and devices as strings, leaving out an optional env file that is not there', () => {
    const b = servicesOf(stackForm(fixture('short-forms.normalised.yaml'), [], nothingExists).text).b!
    expect(b.env_file).toEqual(['/tmp/cx/q/e.env'])
    expect(b.devices).toEqual(['/dev/null:/dev/null'])
    const optional =
      'services:\n  a:\n    image: x\n    env_file:\n      - path: /w/here.env\n        required: false\n      - path: /w/gone.env\n        required: false\n'
    expect(servicesOf(stackForm(optional, [], file => file === '/w/here.env').text).a!.env_file).toEqual(['/w/here.env'])
    expect(servicesOf(stackForm(optional, [], nothingExists).text).a).not.toHaveProperty('env_file')
  })

  it('puts back the short form of a volume whose source is a reference, which compose read as a named volume', () => {
    const a = servicesOf(stackForm(fixture('variables.normalised.yaml'), [], nothingExists).text).a!
    expect(a.volumes).toEqual(['${DATA:-./d}:/data', { source: 'vol', target: '${TARGET}', type: 'volume', volume: {} }])
    expect(
      servicesOf(stackForm('services:\n  a:\n    volumes:\n      - {type: volume, source: "${V}", target: /d, read_only: true}\n', [], nothingExists).text).a!
        .volumes
    ).toEqual(['${V}:/d:ro'])
  })

  it('drops a top-level name:, which the loader refuses', () => {
    expect(YAML.parse(stackForm('name: shop\nservices:\n  a:\n    image: x\n', [], nothingExists).text)).toEqual({ services: { a: { image: 'x' } } })
  })
})

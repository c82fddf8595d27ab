// Each compose text is parsed once per run and the document shared by every
// reader (preflight, deploy, release record), so none of them may change it.
import { describe, expect, it } from '@jest/globals'
import * as YAML from 'yaml'
import { parsedCompose } from '../../../src/deploy/compose-yaml.js'
import { referencedNames, swarmNameProblems } from '../../../src/deploy/stack-deploy.js'
import { renderStackObjects } from '../../../src/deploy/stack-objects.js'
import { findBareEnvironment, findEnvironmentUses } from '../../../src/deploy/variables.js'
import { externalized, pinnedImages } from '../../../src/release/record.js'

const COMPOSE = `services:
  web:
    image: \${IMAGE}
    environment:
      - DB_PASSWORD
      - API=\${API_TOKEN}
secrets:
  db:
    environment: DB_PASSWORD
  cert:
    file: ./cert.pem
configs:
  site:
    name: shop_site_abc
    file: ./site.conf
`

describe('parsedCompose', () => {
  it('parses a text once: the same document for every reader', () => {
    expect(parsedCompose(COMPOSE)).toBe(parsedCompose(COMPOSE))
    expect(parsedCompose(COMPOSE).doc.toJS()).toEqual(YAML.parse(COMPOSE))
  })

  it('keeps only the last few texts', () => {
    const first = parsedCompose('services: {a: {image: x}}\n')
    for (let i = 0; i < 8; i++) parsedCompose(`services: {s${i}: {image: x}}\n`)
    expect(parsedCompose('services: {a: {image: x}}\n')).not.toBe(first)
  })

  it('is left as parsed by every reader of a run', () => {
    const files = [{ path: 'app/docker-compose.yml', text: COMPOSE }]
    const values = new Map([
      ['DB_PASSWORD', 'a-long-secret-value'],
      ['IMAGE', 'registry/shop@sha256:' + 'a'.repeat(64)]
    ])
    const readSource = () => Buffer.from('file data')
    renderStackObjects(files, { stack: 'shop', values, readSource, secretKey: Buffer.alloc(32, 1) })
    referencedNames(files)
    swarmNameProblems(files, 'shop')
    findBareEnvironment(COMPOSE, 'app/docker-compose.yml')
    findEnvironmentUses(COMPOSE, 'app/docker-compose.yml')
    externalized(COMPOSE)
    pinnedImages(COMPOSE, 'shop', [{ name: 'shop_web', image: 'registry/shop@sha256:' + 'b'.repeat(64) } as never])
    expect(parsedCompose(COMPOSE).doc.toString()).toBe(YAML.parseDocument(COMPOSE).toString())
  })
})

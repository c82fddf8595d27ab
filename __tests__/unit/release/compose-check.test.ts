// What a rollback lets a recorded compose do, whatever its proof: no file read
// on the runner, no secret or config but the versions the release used, only
// the release's services and variables; YAML spellings hide nothing.
import { describe, expect, it } from '@jest/globals'
import { recordedComposeProblems } from '../../../src/release/compose-check.js'

const STACK = 'shop'
const release = {
  stack: STACK,
  services: [{ name: `${STACK}_web`, image: 'r/web@sha256:ab', secrets: [`${STACK}_db_0123456789`], configs: [`${STACK}_site_abcdefabcd`] }],
  variables: ['DB_PASSWORD', 'IMAGE']
}
const problems = (text: string, of = release): string[] => recordedComposeProblems([{ path: 'docker-compose.yml', text }], of)

const GENUINE = `version: "3.8"
x-common: &common
  init: true
secrets:
  db: {external: true, name: "${STACK}_db_0123456789"}
configs:
  site:
    external: true
    name: ${STACK}_site_abcdefabcd
services:
  web:
    <<: *common
    image: \${IMAGE}
    environment:
      DB_PASSWORD: \${DB_PASSWORD}
    secrets: [db]
    configs:
      - source: site
        target: /etc/site.conf
`

describe('recordedComposeProblems', () => {
  it('accepts what a deploy records: external versions the services used, anchors and merge keys, the recorded variables', () => {
    expect(problems(GENUINE)).toEqual([])
  })

  it('refuses every file read on the runner: file and environment sources, env_file, build, extends, label_file, include', () => {
    expect(problems('configs:\n  leak:\n    file: /proc/self/environ\nservices:\n  web:\n    image: x\n')).toEqual([
      'compose file "docker-compose.yml": configs "leak" is not external: a rollback creates no secret or config, and reads no file'
    ])
    expect(problems('secrets:\n  s:\n    environment: DB_PASSWORD\n')).toHaveLength(1)
    for (const key of ['env_file: ./docker/config.json', 'build: .', 'extends: {file: x.yml, service: y}', 'label_file: ./labels', 'Build: .']) {
      expect(problems(`services:\n  web:\n    image: x\n    ${key}\n`)).toEqual([
        `compose file "docker-compose.yml": service "web" has ${key.split(':')[0]}, which reads files on the runner`
      ])
    }
    expect(problems('include:\n  - other.yml\nservices: {}\n')).toEqual(['compose file "docker-compose.yml" has top-level "include", which reads other files'])
  })

  it('sees keys through merge keys, aliases, quotes and flow style', () => {
    const viaMerge = 'x-evil: &evil\n  env_file: /proc/self/environ\nservices:\n  web:\n    <<: *evil\n    image: x\n'
    expect(problems(viaMerge)).toEqual(['compose file "docker-compose.yml": service "web" has env_file, which reads files on the runner'])
    const mergeList = 'x-a: &a {init: true}\nx-b: &b {build: .}\nservices:\n  web: {<<: [*a, *b], image: x}\n'
    expect(problems(mergeList)).toHaveLength(1)
    expect(problems('services:\n  web:\n    "env_file": x\n    image: x\n')).toHaveLength(1)
    // A source merged in beside an explicit external: Docker may read either.
    const half = `x-f: &f {file: /proc/self/environ}\nconfigs:\n  site:\n    <<: *f\n    external: true\n    name: ${STACK}_site_abcdefabcd\n`
    expect(problems(half)).toEqual([expect.stringContaining('configs "site" is not external')])
    const aliased = `x-s: &s\n  web: {image: x, build: .}\nservices: *s\n`
    expect(problems(aliased)).toHaveLength(1)
  })

  it('refuses another version, another service, unread YAML, and variables the release did not record', () => {
    expect(problems(`secrets:\n  db: {external: true, name: other_stack_db_0123456789}\n`)).toEqual([
      'compose file "docker-compose.yml": secrets "db" names a version the release\'s services did not use'
    ])
    expect(problems(`secrets:\n  db: {external: true, name: "\${DB_NAME}"}\n`)).toHaveLength(2)
    expect(problems('services:\n  grab:\n    image: x\n')).toEqual(['compose file "docker-compose.yml" has service "grab", which the release did not run'])
    expect(problems('services:\n  web: [\n')).toEqual(['compose file "docker-compose.yml" is not YAML that can be read'])
    expect(problems('services:\n  ? [a, b]\n  : {image: x}\n')).toEqual([expect.stringContaining('cannot be read safely')])
    expect(problems('services:\n  web:\n    image: x\n    environment:\n      - AWS_SECRET_ACCESS_KEY\n      - T=${GITHUB_TOKEN}\n')).toEqual([
      'the compose files read variables the release did not record: AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN'
    ])
    expect(problems('models: {}\nservices: {}\n')).toEqual(['compose file "docker-compose.yml" has top-level "models"'])
  })
})

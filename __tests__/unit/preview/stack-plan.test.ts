import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as YAML from 'yaml'
import { ignoredKeyWarnings } from '../../../src/preview/ignored-keys.js'
import { clientVersionOf, composeViews, hasStackConfig } from '../../../src/preview/preview.js'
import { durationNs, liveView, normalizeImage, showDuration } from '../../../src/preview/service-view.js'
import { planStack } from '../../../src/preview/stack-plan.js'
import { renderPlanSummary, renderPlanText } from '../../../src/report/plan.js'

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures')
// Recorded on the lab: the live specs `docker stack deploy --with-registry-auth` made from preview-stack.yml,
// and what `docker stack config` prints for that file.
const recorded = JSON.parse(readFileSync(path.join(FIXTURES, 'preview-live.json'), 'utf8')) as {
  stack: string
  services: Array<{ Spec: Record<string, unknown> }>
  networks: Array<{ id: string; name: string }>
}
const configText = readFileSync(path.join(FIXTURES, 'preview-config.yml'), 'utf8')
const stack = recorded.stack
const networks = new Map(recorded.networks.map(n => [n.id, n.name]))
const live = recorded.services.map(s => liveView(stack, s.Spec, networks))

// The recorded document, edited field by field as a person would edit the compose file.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = { services: Record<string, Record<string, any>>; secrets: Record<string, any>; configs: Record<string, any> }
const config = (): Doc => YAML.parse(configText) as Doc

describe('the preview plan on specs recorded from the lab', () => {
  it('says every service of an identical compose file is unchanged, though Swarm filled in defaults, pinned the digest and added platforms', () => {
    const plan = planStack(stack, composeViews(stack, config(), undefined), live, { prune: false })
    expect(plan.services.map(s => [s.name, s.action, s.changes])).toEqual([
      ['edge', 'unchanged', []],
      ['job', 'unchanged', []],
      ['plain', 'unchanged', []],
      ['web', 'unchanged', []]
    ])
    expect(plan.kept).toEqual([])
  })

  it('tells a change in the fields the CLI rewrites (capabilities, hosts, ulimits, job completions, host ports, mounts) by name', () => {
    const doc = config()
    const edge = doc.services.edge!
    edge.cap_add = ['SYS_TIME']
    edge.extra_hosts = ['db.local:10.1.2.4']
    edge.ulimits.nofile.soft = 512
    edge.deploy.restart_policy.max_attempts = 5
    edge.ports[1].published = 19001
    edge.volumes[2].read_only = false
    edge.networks.back.aliases = ['other-alias']
    doc.services.job!.deploy.replicas = 3
    doc.services.job!.configs[0].mode = 0o400
    const plan = planStack(stack, composeViews(stack, doc, undefined), live, { prune: false })
    expect(plan.services.find(s => s.name === 'edge')!.changes).toEqual([
      'ports 19000:9000/udp (host), 9001/tcp (host) → 19000:9000/udp (host), 19001:9001/tcp (host)',
      'restart_policy max_attempts 3 → 5',
      'networks preview-rec_back (aliases edge, edge-alias) → preview-rec_back (aliases edge, other-alias)',
      'mounts /host-tmp changed',
      'also cap_add, ulimits, extra_hosts changed'
    ])
    expect(plan.services.find(s => s.name === 'job')!.changes).toEqual(['replicas 2 → 3', 'config conf: owner or mode 1000:0 440 → 1000:0 400'])
  })

  it('names a variable called like an Object method (toString, constructor) as added, not changed', () => {
    const doc = config()
    const web = doc.services.web!
    web.environment = { ...web.environment, toString: 'x-value-1', constructor: 'y-value-2' }
    const plan = planStack(stack, composeViews(stack, doc, undefined), live, { prune: false })
    expect(plan.services.find(s => s.name === 'web')!.changes).toEqual(['environment constructor, toString added'])
  })

  it('lists what a changed compose file would change, naming environment variables and labels without their values', () => {
    const doc = config()
    const web = doc.services.web!
    web.environment = { GREETING: 'a-new-greeting-value', EMPTY: '', ADDED_VAR: 'added-value-1' } // MODE removed
    web.image = '10.77.0.1:5000/lab/busybox:2'
    web.deploy.replicas = 3
    web.deploy.update_config.order = 'stop-first'
    web.deploy.labels.team = 'other-team-value'
    web.ports[0].published = 18081
    web.deploy.resources.limits.memory = '134217728'
    web.deploy.placement.constraints = ['node.role == worker']
    web.volumes = web.volumes.filter((v: { target: string }) => v.target !== '/tmp/cache')
    web.command = ['httpd', '-f', '-p', '8081']
    doc.secrets.pw.name = 'preview-rec_pw_abcdef0123'
    doc.configs.conf.name = 'preview-rec_conf_abcdef0123'
    const plan = planStack(stack, composeViews(stack, doc, undefined), live, { prune: false })
    const update = plan.services.find(s => s.name === 'web')!
    expect(update.action).toBe('update')
    expect(update.changes).toEqual([
      expect.stringMatching(/^image 10\.77\.0\.1:5000\/lab\/busybox:1@sha256:[0-9a-f]{64} → 10\.77\.0\.1:5000\/lab\/busybox:2$/),
      'environment ADDED_VAR added; MODE removed; GREETING changed',
      'replicas 2 → 3',
      'ports 18080:8080/tcp (host) → 18081:8080/tcp (host)',
      'update_config order start-first → stop-first',
      'placement constraints node.role == manager → node.role == worker',
      'resources limits.memory 67108864 → 134217728',
      'secret app_password: new version of pw',
      'config /etc/app.conf: preview-rec_conf_0123456789 → preview-rec_conf_abcdef0123',
      'labels team changed',
      'mounts /tmp/cache removed',
      'also command changed'
    ])
    expect(plan.services.find(s => s.name === 'plain')!.action).toBe('unchanged')
    const everything = JSON.stringify(plan) + renderPlanSummary(plan) + renderPlanText(plan)
    for (const value of ['a-new-greeting-value', 'added-value-1', 'other-team-value', 'hello', 'preview-rec_pw_abcdef0123', '8081 ']) {
      expect(everything).not.toContain(value)
    }
  })

  it('creates a service the swarm lacks, removes one the compose files dropped only with prune, and shows an image to be built', () => {
    const doc = config()
    doc.services.api = { image: 'reg.example/acme/api:abc123' }
    doc.services.web!.image = 'reg.example/acme/api:abc123'
    delete doc.services.plain
    delete doc.services.edge
    delete doc.services.job
    const kept = planStack(stack, composeViews(stack, doc, 'reg.example/acme/api:abc123'), live, { prune: false })
    expect(kept.services.map(s => [s.name, s.action, s.image])).toEqual([
      ['api', 'create', 'reg.example/acme/api:abc123 (to be built)'],
      ['web', 'update', 'reg.example/acme/api:abc123 (to be built)']
    ])
    expect(kept.services[1]!.changes[0]).toMatch(/^image 10\.77\.0\.1:5000\/lab\/busybox:1@sha256:.* → reg\.example\/acme\/api:abc123 \(to be built\)$/)
    expect(kept.kept).toEqual(['edge', 'job', 'plain'])
    const pruned = planStack(stack, composeViews(stack, doc, undefined), live, { prune: true })
    expect(pruned.services.map(s => [s.name, s.action])).toEqual([
      ['api', 'create'],
      ['web', 'update'],
      ['edge', 'remove'],
      ['job', 'remove'],
      ['plain', 'remove']
    ])
    expect(renderPlanText(pruned)).toContain('- plain: remove')
  })

  it('an image built again is an update even when the tag is the same', () => {
    const doc = config()
    const plan = planStack(stack, composeViews(stack, doc, '10.77.0.1:5000/lab/busybox:1'), live, { prune: false })
    expect(plan.services.find(s => s.name === 'web')!.action).toBe('update')
  })
})

describe('normalising', () => {
  it('reads Go durations and shows them short', () => {
    expect(durationNs('1m30s')).toBe(90e9)
    expect(durationNs('1h0m0s')).toBe(3600e9)
    expect(durationNs('500ms')).toBe(5e8)
    expect(showDuration(90e9)).toBe('1m30s')
    expect(showDuration(5e8)).toBe('500ms')
    expect(showDuration(0)).toBe('0s')
  })
  it('writes images the familiar way, with latest for no tag, and drops a digest unless asked to keep it', () => {
    expect(normalizeImage('docker.io/library/nginx', false)).toBe('nginx:latest')
    expect(normalizeImage('nginx:1@sha256:aa', false)).toBe('nginx:1')
    expect(normalizeImage('localhost:5000/app', false)).toBe('localhost:5000/app:latest')
    expect(normalizeImage('app@sha256:aa', true)).toBe('app@sha256:aa')
  })
})

describe('ignoredKeyWarnings', () => {
  it('names the keys docker stack deploy ignores, per file and service', () => {
    const text = 'services:\n  web:\n    image: x\n    container_name: web\n    restart: always\n    depends_on: [db]\n  db:\n    image: y\n'
    expect(ignoredKeyWarnings([{ path: 'a.yml', text }])).toEqual([
      'compose-file: a.yml: service web: restart (use deploy.restart_policy), container_name (Swarm names the containers itself), depends_on (Swarm starts services in no order; use a healthcheck and retries) are ignored by docker stack deploy'
    ])
  })
})

describe('renderPlanSummary', () => {
  it('is a "Plan" section with one row per service, that no text from the swarm can break', () => {
    const summary = renderPlanSummary({
      stack: 'shop',
      services: [
        { name: 'db', action: 'unchanged', image: 'postgres:16', changes: [] },
        { name: 'web', action: 'update', image: 'reg/app:1', changes: ['placement constraints a|b → c', 'environment A added'] }
      ],
      kept: ['old'],
      warnings: ['compose-file: a.yml: service web: restart (use deploy.restart_policy) is ignored by docker stack deploy']
    })
    expect(summary).toContain('### Plan')
    expect(summary).toContain('1 to update, 1 unchanged')
    const rows = summary.split('\n').filter(line => line.startsWith('| db') || line.startsWith('| web'))
    expect(rows).toEqual([
      '| db | ✔️ unchanged | `postgres:16` | – |',
      '| web | ✏️ update | `reg/app:1` | placement constraints a\\|b → c<br>environment A added |'
    ])
    expect(summary).toContain('kept because prune is off: `old`')
    expect(summary).toContain('### Warnings')
  })
})

describe('the docker CLI version the preview needs', () => {
  it('reads the version `docker --version` prints, and knows which have docker stack config (22.06 betas, then 23.0)', () => {
    expect(clientVersionOf('Docker version 20.10.24+dfsg1, build 297e128\n')).toBe('20.10.24+dfsg1')
    expect(clientVersionOf('Docker version 28.2.2, build e6534b4')).toBe('28.2.2')
    expect(clientVersionOf('podman version 4.3.1')).toBeUndefined()
    expect(['20.10.24+dfsg1', '22.06.0-beta.0', '23.0.0', '28.2.2', '100.1'].map(hasStackConfig)).toEqual([false, true, true, true, true])
    expect(hasStackConfig('dev')).toBeUndefined()
  })
})

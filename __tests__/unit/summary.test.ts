import { describe, expect, it } from '@jest/globals'
import type { ServiceVerdict, Verdict } from '../../src/converge/judge.js'
import { renderDiagram, renderSummary, servicesOutput } from '../../src/report/summary.js'

const service: ServiceVerdict = {
  name: 'web_app',
  id: 's1',
  image: 'reg/app:v2@sha256:abc',
  mode: 'replicated',
  change: 'updated',
  state: 'rolled-back',
  desired: 2,
  running: 2,
  updateState: 'rollback_completed',
  message: 'the update failed | and Swarm rolled the service back',
  nodes: ['mgr', 'wrk'],
  pending: [],
  failures: [{ taskId: 't3xxxxxxxxxxxx', service: 'web_app', slot: 1, node: 'wrk', state: 'failed', error: 'unhealthy container', exitCode: 143, containerId: undefined }],
  rollbackWanted: false,
  tasks: [
    { service: 'web_app', slot: 1, node: 'mgr', state: 'running', current: true },
    { service: 'web_app', slot: 2, node: 'wrk', state: 'running', current: true },
    { service: 'web_app', slot: 1, node: 'wrk', state: 'failed', current: false }
  ]
}
const verdict: Verdict = { status: 'rolled-back', services: [service], summary: 'Stack web was rolled back by Swarm.' }

describe('report', () => {
  it('renders a table row per service, escaping cells, with failed tasks and their logs', () => {
    const md = renderSummary({ stack: 'web', target: 'root@mgr:22', image: 'reg/app:v2@sha256:abc', verdict, diagnoses: [{ failure: service.failures[0]!, logTail: 'GET /health 404' }], seconds: 12 })
    expect(md).toContain('## swarm-deploy: stack `web` ↩️ rolled back')
    expect(md).toContain('| web_app | `reg/app:v2@sha256:abc` | 2/2 | mgr, wrk | rolled-back (rollback_completed): the update failed \\| and Swarm rolled the service back |')
    expect(md).toContain('- web_app.1 task t3xxxxxxxxxx on wrk: failed: unhealthy container (exit code 143)')
    expect(md).toContain('  GET /health 404')
  })

  it('draws tasks by node, coloured by state', () => {
    const diagram = renderDiagram(verdict)!
    expect(diagram.split('\n')).toEqual(
      expect.arrayContaining([
        '```mermaid',
        '  subgraph node0["mgr"]',
        '    n0t0["web_app.1<br/>running"]',
        '  subgraph node1["wrk"]',
        '    n1t1["web_app.1<br/>failed (other spec)"]',
        '  class n0t0 running',
        '  class n1t1 other'
      ])
    )
  })

  it('puts each service verdict in the services output', () => {
    expect(JSON.parse(servicesOutput(verdict))).toEqual([
      { name: 'web_app', image: 'reg/app:v2@sha256:abc', mode: 'replicated', running: 2, desired: 2, updateState: 'rollback_completed', state: 'rolled-back', message: 'the update failed | and Swarm rolled the service back', change: 'updated', nodes: ['mgr', 'wrk'] }
    ])
  })
})

import { describe, expect, it } from '@jest/globals'
import type { ServiceVerdict, Verdict } from '../../../src/converge/verdict.js'
import { renderDiagram, renderSummary, servicesOutput } from '../../../src/report/summary.js'

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
  failures: [
    { taskId: 't3xxxxxxxxxxxx', service: 'web_app', slot: 1, node: 'wrk', state: 'failed', error: 'unhealthy container', exitCode: 143, containerId: undefined }
  ],
  rollbackWanted: false,
  tasks: [
    { service: 'web_app', slot: 1, node: 'mgr', state: 'running', current: true },
    { service: 'web_app', slot: 2, node: 'wrk', state: 'running', current: true },
    { service: 'web_app', slot: 1, node: 'wrk', state: 'failed', current: false }
  ]
}
const verdict: Verdict = { status: 'rolled-back', services: [service], summary: 'Stack web was rolled back by Swarm.' }

/** The summary of the rolled-back verdict with one failed task and this log tail. */
const withLogTail = (logTail: string): string =>
  renderSummary({ stack: 'web', target: 'root@mgr:22', image: undefined, verdict, diagnoses: [{ failure: service.failures[0]!, logTail }], seconds: 1 })

describe('report', () => {
  it('renders a table row per service, escaping cells, with failed tasks and their logs', () => {
    const md = renderSummary({
      stack: 'web',
      target: 'root@mgr:22',
      image: 'reg/app:v2@sha256:abc',
      verdict,
      diagnoses: [{ failure: service.failures[0]!, logTail: 'GET /health 404' }],
      seconds: 12
    })
    expect(md).toContain('## swarm-deploy: stack `web` ↩️ rolled back')
    expect(md).toContain(
      '| web\\_app | `reg/app:v2@sha256:abc` | 2/2 | mgr, wrk | rolled-back (rollback\\_completed): the update failed \\| and Swarm rolled the service back |'
    )
    expect(md).toContain('- web\\_app.1 task t3xxxxxxxxxx on wrk: failed: unhealthy container (exit code 143)')
    expect(md).toContain('  GET /health 404')
  })

  // Task errors, update messages, node names and log lines come from the swarm and its containers.
  it('fences a log tail with more backticks than any run in it', () => {
    const logTail = 'before\n```\n## not a heading\n<script>alert(1)</script>\n`````x'
    const md = withLogTail(logTail)
    const lines = md.split('\n')
    const open = lines.findIndex(l => l.startsWith('  ``````'))
    expect(lines[open]).toBe('  ``````text')
    expect(lines.slice(open + 1, open + 6)).toEqual(logTail.split('\n').map(l => `  ${l}`))
    expect(lines[open + 6]).toBe('  ``````')
  })

  it('escapes Markdown and HTML in every cell and text from the swarm, and keeps each on its line', () => {
    const hostile: ServiceVerdict = {
      ...service,
      image: 'reg/app`x`|y',
      message: 'oops\n# Heading <img src=x onerror=alert(1)> **bold** [click](https://evil.example) ~~gone~~ &lt; $x$ back\\slash',
      nodes: ['n<b>1</b>'],
      failures: [{ ...service.failures[0]!, error: 'bad\n\n## injected [x](y) <b>' }]
    }
    const md = renderSummary({
      stack: 'web',
      target: 'root@mgr:22',
      image: undefined,
      verdict: { status: 'failed', services: [hostile], summary: 'Stack web failed:\n# big <i>x</i>' },
      diagnoses: [{ failure: hostile.failures[0]!, logTail: '' }],
      seconds: 1
    })
    const row = md.split('\n').find(l => l.startsWith('| web'))!
    expect(row).toBe(
      '| web\\_app | ``reg/app`x`\\|y`` | 2/2 | n\\<b\\>1\\</b\\> | rolled-back (rollback\\_completed): oops # Heading \\<img src=x onerror=alert(1)\\> \\*\\*bold\\*\\* `[click](https://evil.example)` \\~\\~gone\\~\\~ \\&lt; \\$x\\$ back\\\\slash |'
    )
    expect(md).toContain('\nStack web failed: # big \\<i\\>x\\</i\\>\n')
    expect(md).toContain('\n- web\\_app.1 task t3xxxxxxxxxx on wrk: failed: bad  ## injected \\[x\\](y) \\<b\\> (exit code 143)\n')
    expect(md).not.toMatch(/^#+ (Heading|injected|big)/m)
  })

  it('keeps node and task labels from closing the diagram', () => {
    const odd: ServiceVerdict = { ...service, tasks: [{ service: 'web_app', slot: 1, node: 'n```\n```js\nalert(1)', state: 'running', current: true }] }
    const diagram = renderDiagram({ ...verdict, services: [odd] })!
    expect(diagram.split('\n').filter(l => l.includes('```'))).toEqual(['```mermaid', '```'])
    expect(diagram).toContain('  subgraph node0["n#96;#96;#96; #96;#96;#96;js alert(1)"]')
  })

  it('keeps a task state or name from the swarm inside its Mermaid label: every other character an entity code', () => {
    const odd: ServiceVerdict = {
      ...service,
      tasks: [
        {
          service: 'web"]; click n0t0 call alert()',
          slot: 1,
          node: 'mgr"]\nclick node0 href "https://evil.example"',
          state: '"]; click A call x%%',
          current: true
        }
      ]
    }
    const diagram = renderDiagram({ ...verdict, services: [odd] })!
    const lines = diagram.split('\n')
    // Every line is one of ours: a label is one quoted string with no quote, bracket, semicolon, % or backtick but in entity codes.
    expect(lines.filter(l => /^\s*click\b/.test(l))).toEqual([])
    expect(lines.filter(l => /\["/.test(l)).every(l => /^\s+(subgraph node\d+|n\d+t\d+)\["([^"\];`%#]|#\d+;)*"\]$/.test(l))).toBe(true)
    expect(diagram).toContain('n0t0["web#34;#93;#59; click n0t0 call alert().1<br/>#34;#93;#59; click A call x#37;#37;"]')
  })

  it('lets no text from the swarm become a link: URLs, www. and e-mail addresses are code, not autolinks', () => {
    const linky: ServiceVerdict = {
      ...service,
      message: 'see https://evil.example/x or www.evil.example, ops@evil.example',
      failures: [{ ...service.failures[0]!, error: 'pull https://evil.example/login?x=1 denied' }]
    }
    const md = renderSummary({
      stack: 'web',
      target: 'root@mgr:22',
      image: undefined,
      verdict: { status: 'failed', services: [linky], summary: 'Stack web failed: http://evil.example' },
      diagnoses: [{ failure: linky.failures[0]!, logTail: '' }],
      seconds: 1
    })
    // What is left once code spans are taken out holds nothing GFM would link.
    const outsideCode = md.replace(/(`+)[^`]*?\1/g, '')
    expect(outsideCode).not.toMatch(/:\/\/|www\.|@evil/)
    expect(md).toContain('`https://evil.example/x`')
    expect(md).toContain('`ops@evil.example`')
    expect(md).toContain('`https://evil.example/login?x=1`')
  })

  it('keeps every line of a log tail in its fence, a carriage return in it too', () => {
    const logTail = 'boom\r# Deploy OK\r![x](https://evil.example/p.png)\u2028::x\nnext'
    const md = withLogTail(logTail)
    // Markdown ends a line at \r too: an unindented one would end the list item, and its fence, early.
    const lines = md.split(/\r\n|\r|\n/)
    const open = lines.indexOf('  ```text')
    expect(lines.slice(open + 1, open + 3)).toEqual(['  boom# Deploy OK![x](https://evil.example/p.png)::x', '  next'])
    expect(lines[open + 3]).toBe('  ```')
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
      {
        name: 'web_app',
        image: 'reg/app:v2@sha256:abc',
        mode: 'replicated',
        running: 2,
        desired: 2,
        updateState: 'rollback_completed',
        state: 'rolled-back',
        message: 'the update failed | and Swarm rolled the service back',
        change: 'updated',
        nodes: ['mgr', 'wrk']
      }
    ])
  })
})

describe('the Releases table', () => {
  it('lists the releases given, newest first, escaping what came from the run', () => {
    const releases = [
      {
        number: 4,
        status: 'converged',
        sha: 'bbbbbbb',
        actor: 'a|b_<i>',
        time: '2026-12-01T10:00:00.000Z',
        note: 'rollback to #2',
        images: ['reg/app:v2@sha256:abc', '${BASE}@sha256:def']
      },
      { number: 3, status: 'failed', sha: '–', actor: '', time: '2026-12-01T09:00:00.000Z', note: '', images: [] }
    ]
    const md = renderSummary({ stack: 'web', target: 'root@mgr:22', image: undefined, verdict, diagnoses: [], seconds: 1, releases })
    expect(md).toContain('### Releases')
    expect(md).toContain('| Release | Status | Commit | Actor | Time | Images |')
    expect(md).toContain(
      '| #4 (rollback to #2) | converged | `bbbbbbb` | a\\|b\\_\\<i\\> | 2026-12-01T10:00:00.000Z | `reg/app:v2@sha256:abc`<br/>`${BASE}@sha256:def` |'
    )
    expect(md).toContain('| #3 | failed | – | – | 2026-12-01T09:00:00.000Z | – |')
    expect(renderSummary({ stack: 'web', target: 'x', image: undefined, verdict, diagnoses: [], seconds: 1 })).not.toContain('### Releases')
  })
})

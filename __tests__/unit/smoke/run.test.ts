// The smoke check: its inputs, its pure decisions, its loop on a fake clock,
// the real HTTP adapter against a server on loopback, and the engine with
// fake adapters (the verdict, the release record, rollback-stack, masking).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseCommandLine } from '../../../src/cli/args.js'
import { exitCode } from '../../../src/cli/main.js'
import { runDeploy } from '../../../src/engine.js'
import { getInputs } from '../../../src/inputs/inputs.js'
import type { Inputs } from '../../../src/inputs/inputs.js'
import { describeExpect, parseExpect, parseSmokeUrls, readSmokeCheck, smokeUrlSecrets } from '../../../src/inputs/smoke-inputs.js'
import { decodeRelease } from '../../../src/release/record.js'
import { renderSummary } from '../../../src/report/summary.js'
import { renderText } from '../../../src/report/text.js'
import { secretsOf } from '../../../src/secrets.js'
import type { UrlResult } from '../../../src/smoke/decide.js'
import {
  afterAnswer,
  bodyExcerpt,
  EXCERPT_CHARS,
  nextWaitMs,
  requestTimeoutMs,
  retryDelayMs,
  shouldReport,
  smokeRequest,
  smokeVerdict,
  statusPasses
} from '../../../src/smoke/decide.js'
import type { SmokeAnswer, SmokeGet, SmokeRequest, StoredConfig } from '../../../src/ports.js'
import { BODY_BYTES, httpGet } from '../../../src/smoke/http.js'
import { runSmokeCheck } from '../../../src/smoke/run.js'
import { COMPOSE, DB_PASSWORD, fakeWorld, inputsFor, recordingReporter } from '../../support/fake-world.js'
import type { WorldOptions } from '../../support/fake-world.js'
import { deployOutputs } from '../../../src/report/outputs.js'

const read = (values: Record<string, string>) => (name: string) => values[name] ?? ''

describe('smoke-url', () => {
  it('takes URLs newline- or comma-separated, keeps a comma inside a URL, drops fragments and duplicates', () => {
    const urls = parseSmokeUrls(
      'smoke-url',
      'https://shop.example.com/health, http://10.0.0.1:8080/x?fields=a,b\n# a comment\nhttps://shop.example.com/health#top'
    )
    expect(urls.map(u => u.href)).toEqual(['https://shop.example.com/health', 'http://10.0.0.1:8080/x?fields=a,b'])
    expect(urls.map(u => u.shown)).toEqual(['https://shop.example.com/health', 'http://10.0.0.1:8080/x?fields=***'])
  })

  it('shows userinfo and every query value as ***, names kept', () => {
    const [url] = parseSmokeUrls('smoke-url', 'https://ci:pa%40ss-word-1@shop.example.com:8443/health?token=tok-123456&debug&v=2')
    expect(url!.shown).toBe('https://***@shop.example.com:8443/health?token=***&***&v=***')
    expect(url!.href).toContain('ci:pa%40ss-word-1@')
  })

  it.each([
    ['ftp://files.example.com/x', /^smoke-url: item 1 is a ftp URL: the smoke check speaks http and https only/],
    ['https://a.example/x https://b.example/y', /^smoke-url: item 1 has white space in it/],
    ['shop.example.com/health', /^smoke-url: item 1 is not an absolute http or https URL/],
    ['https://ok.example/\nhttp:no-slashes.example', /^smoke-url: item 2 has no host/],
    ['https://ok.example/\nhttps://[bad', /^smoke-url: item 2 is not an absolute http or https URL/]
  ])('refuses %p, clearly', (raw, message) => {
    expect(() => parseSmokeUrls('smoke-url', raw)).toThrow(message)
  })

  it('never quotes an item it cannot parse: it may hold a password', () => {
    // Each must throw, and say nothing of the password (`not.toThrow(/hunter2/)` would pass on no error at all).
    const message = (raw: string): string => {
      try {
        parseSmokeUrls('smoke-url', raw)
      } catch (error) {
        return (error as Error).message
      }
      throw new Error(`accepted: ${raw}`)
    }
    expect(message('https://user:hunter2-secret@[bad/')).toBe('smoke-url: item 1 is not an absolute http or https URL (like https://shop.example.com/health)')
    expect(message('mailto:ops:hunter2-secret@example.com')).toBe(
      'smoke-url: item 1 is a mailto URL: the smoke check speaks http and https only (like https://shop.example.com/health)'
    )
  })

  it('finds the secret parts, as written and decoded, before anything parses the input', () => {
    const found = smokeUrlSecrets('https://ci-user:pa%40ss-word@shop.example.com/x?token=a%2Bb+c&flag, https://b.example/?k=v')
    expect(found).toEqual(
      expect.arrayContaining([
        { value: 'ci-user' },
        { value: 'pa%40ss-word', name: 'smoke-url password' },
        { value: 'pa@ss-word', name: 'smoke-url password' },
        { value: 'a%2Bb+c' },
        { value: 'a+b+c' },
        { value: 'a%2Bb c' },
        { value: 'flag' },
        { value: 'v' }
      ])
    )
    // The front ends mask them with the other secrets, before getInputs runs.
    expect(secretsOf(read({ 'smoke-url': 'https://u:long-password-1@h.example/' })).map(s => s.value)).toContain('long-password-1')
  })
})

describe('smoke-expect and smoke-timeout', () => {
  it('reads codes and ranges', () => {
    expect(parseExpect('smoke-expect', '200-399')).toEqual([{ from: 200, to: 399 }])
    expect(parseExpect('smoke-expect', '200,204, 300-399')).toEqual([
      { from: 200, to: 200 },
      { from: 204, to: 204 },
      { from: 300, to: 399 }
    ])
    expect(describeExpect(parseExpect('smoke-expect', '200, 204 300-399'))).toBe('200,204,300-399')
  })

  it.each([
    ['', /is empty/],
    ['2xx', /'2xx' is not a status code or range like 200, 204 or 200-399/],
    ['600', /'600': 600 is not an HTTP status code \(100-599\)/],
    ['099-200', /'099-200': 99 is not an HTTP status code/],
    ['399-200', /'399-200' is a range that ends before it starts: write it low-high, like 200-399/],
    ['200-', /'200-' is not a status code/]
  ])('refuses %p', (raw, message) => {
    expect(() => parseExpect('smoke-expect', raw)).toThrow(message)
  })

  it('gives the defaults, and refuses a timeout or codes set without a URL', () => {
    expect(readSmokeCheck(read({}))).toBeUndefined()
    expect(readSmokeCheck(read({ 'smoke-timeout': '60s', 'smoke-expect': '200-399' }))).toBeUndefined()
    expect(readSmokeCheck(read({ 'smoke-url': 'http://h.example/' }))).toMatchObject({ timeoutMs: 60_000, expect: [{ from: 200, to: 399 }] })
    expect(() => readSmokeCheck(read({ 'smoke-timeout': '2m' }))).toThrow('smoke-timeout: is set but smoke-url is empty')
    expect(() => readSmokeCheck(read({ 'smoke-expect': '200' }))).toThrow('smoke-expect: is set but smoke-url is empty')
    expect(() => readSmokeCheck(read({ 'smoke-url': 'http://h.example/', 'smoke-timeout': '0s' }))).toThrow(/^smoke-timeout: '0s' is not a duration/)
  })

  it('are read by getInputs with every other input, before anything is done', () => {
    const context = { env: {}, isFile: () => true, readFile: () => '' }
    const inputs = getInputs(read({ stack: 'web', 'smoke-url': 'http://10.77.0.2:18731/index.html', 'smoke-timeout': '15s', 'smoke-expect': '200' }), context)
    expect(inputs.smoke).toEqual({
      urls: [{ href: 'http://10.77.0.2:18731/index.html', shown: 'http://10.77.0.2:18731/index.html' }],
      timeoutMs: 15_000,
      expect: [{ from: 200, to: 200 }]
    })
    expect(getInputs(read({ stack: 'web' }), context).smoke).toBeUndefined()
    expect(() => getInputs(read({ stack: 'web', 'smoke-url': 'gopher://x/' }), context)).toThrow(/^smoke-url: item 1/)
  })

  it('the CLI refuses a URL with a user, password or query as a flag, and takes it from SWARM_DEPLOY_SMOKE_URL', () => {
    const sources = (env: Record<string, string> = {}) => ({ env, readFile: () => undefined })
    expect(() => parseCommandLine(['--smoke-url', 'https://u:p@h.example/'], sources())).toThrow(
      'smoke-url: a URL with a user, password or query is refused as a command-line flag: give it in SWARM_DEPLOY_SMOKE_URL'
    )
    expect(() => parseCommandLine(['--smoke-url', 'https://h.example/?token=x'], sources())).toThrow(/refused as a command-line flag/)
    expect(parseCommandLine(['--smoke-url', 'https://h.example/a', '--smoke-url', 'https://h.example/b'], sources()).read('smoke-url')).toBe(
      'https://h.example/a\nhttps://h.example/b'
    )
    expect(parseCommandLine([], sources({ SWARM_DEPLOY_SMOKE_URL: 'https://u:p@h.example/' })).read('smoke-url')).toBe('https://u:p@h.example/')
  })

  it('the CLI refuses a URL with a user, password or query in --config too (a committed file), and takes one without', () => {
    const files: Record<string, string> = {
      'secret.yml': 'stack: shop\nsmoke-url:\n  - https://h.example/health\n  - https://h.example/api?key=tok-in-config-1234\n',
      'plain.yml': 'stack: shop\nsmoke-url: https://h.example/health\n'
    }
    const sources = { env: {}, readFile: (file: string) => files[file] }
    expect(() => parseCommandLine(['--config', 'secret.yml'], sources)).toThrow(
      'smoke-url: a URL with a user, password or query is refused in --config secret.yml, a file that gets committed: give it in SWARM_DEPLOY_SMOKE_URL'
    )
    expect(parseCommandLine(['--config', 'plain.yml'], sources).read('smoke-url')).toBe('https://h.example/health')
  })
})

describe('smoke decisions', () => {
  const [plain, withUser] = parseSmokeUrls('smoke-url', 'http://h.example/health, https://ci%20bot:p%40ss@h.example:8443/x?t=1#frag')

  it('passes a status inside any range', () => {
    const ranges = parseExpect('smoke-expect', '200,204,300-399')
    expect([200, 204, 300, 302, 399].map(s => statusPasses(s, ranges))).toEqual([true, true, true, true, true])
    expect([201, 299, 400, 404, 500].map(s => statusPasses(s, ranges))).toEqual([false, false, false, false, false])
  })

  it('sends userinfo as Basic auth, never in the URL, and drops the fragment', () => {
    expect(smokeRequest(plain!, 5000)).toEqual({
      url: 'http://h.example/health',
      headers: { 'user-agent': 'swarm-deploy smoke check', accept: '*/*', 'cache-control': 'no-cache' },
      timeoutMs: 5000
    })
    const request = smokeRequest(withUser!, 1000)
    expect(request.url).toBe('https://h.example:8443/x?t=1')
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('ci bot:p@ss').toString('base64')}`)
  })

  it('tries again after 1, 2, 4, then every 5 s, never sleeping past the deadline', () => {
    expect([0, 1, 2, 3, 4, 10].map(retryDelayMs)).toEqual([1000, 2000, 4000, 5000, 5000, 5000])
    expect(nextWaitMs(0, 0, 10_000)).toBe(1000)
    expect(nextWaitMs(3, 8_000, 10_000)).toBe(2000)
    expect(nextWaitMs(3, 10_000, 10_000)).toBeUndefined()
    expect(nextWaitMs(3, 12_000, 10_000)).toBeUndefined()
  })

  it('bounds one request by 10 s, less near the deadline, at least 1 s', () => {
    expect(requestTimeoutMs(0, 60_000)).toBe(10_000)
    expect(requestTimeoutMs(57_000, 60_000)).toBe(3_000)
    expect(requestTimeoutMs(60_000, 60_000)).toBe(1_000)
  })

  it('redacts a body before it cuts it, flattens it to one line and cuts it', () => {
    const secret = 'sekrit-value-42'
    const redact = (text: string): string => text.split(secret).join('***')
    // The secret straddles the cut: redacted first, so no part of it is left.
    const body = `${'a'.repeat(EXCERPT_CHARS - 5)}${secret} tail`
    const excerpt = bodyExcerpt(body, redact)
    expect(excerpt).not.toContain('sekrit')
    expect(excerpt).toBe(`${'a'.repeat(EXCERPT_CHARS - 5)}*** t…`)
    expect(bodyExcerpt('<h1>404</h1>\r\n\tNot\u0000Found\n', redact)).toBe('<h1>404</h1> Not Found')
  })

  it('records the last answer of each attempt, redacting errors too', () => {
    const start: UrlResult = { url: 'http://h.example/', passed: false, attempts: 0 }
    const ranges = parseExpect('smoke-expect', '200-399')
    const redact = (text: string): string => text.replace('10.0.0.9', '***')
    const refused = afterAnswer(start, { error: 'connect ECONNREFUSED 10.0.0.9:80' }, ranges, redact)
    expect(refused).toEqual({ url: 'http://h.example/', passed: false, attempts: 1, error: 'connect ECONNREFUSED ***:80' })
    expect(afterAnswer(refused, { status: 404, body: 'nope' }, ranges, redact)).toEqual({
      url: 'http://h.example/',
      passed: false,
      attempts: 2,
      status: 404,
      excerpt: 'nope'
    })
    expect(afterAnswer(refused, { status: 301, body: '' }, ranges, redact).passed).toBe(true)
  })

  it('logs a round only when what it found changed, or every 10 s', () => {
    expect(shouldReport(undefined, 'a', 0)).toBe(true)
    expect(shouldReport('a', 'a', 9_999)).toBe(false)
    expect(shouldReport('a', 'a', 10_000)).toBe(true)
    expect(shouldReport('a', 'b', 1)).toBe(true)
  })

  it('turns converged into failed when the check failed, and leaves every other verdict alone', () => {
    const converged = { status: 'converged' as const, services: [], summary: 'Stack shop converged' }
    const failed = {
      passed: false,
      expect: '200-399',
      ms: 12_400,
      urls: [
        { url: 'http://h.example/a', passed: false, attempts: 6, status: 404, excerpt: 'x' },
        { url: 'http://h.example/b', passed: false, attempts: 6, error: 'connection refused' }
      ]
    }
    expect(smokeVerdict(converged, failed, 'shop')).toEqual({
      status: 'failed',
      services: [],
      summary: 'Stack shop converged, but the smoke check failed after 12s: GET http://h.example/a answered 404 (expected 200-399; 6 attempts) and 1 more URL'
    })
    expect(smokeVerdict(converged, { ...failed, passed: true }, 'shop')).toBe(converged)
    const rolledBack = { ...converged, status: 'rolled-back' as const }
    expect(smokeVerdict(rolledBack, failed, 'shop')).toBe(rolledBack)
  })
})

/** A fake clock for the loop: sleeping moves it; each GET takes `takesMs`. */
function clock(takesMs = 20) {
  let now = 1_000_000
  const lines: string[] = []
  const requests: SmokeRequest[] = []
  return {
    lines,
    requests,
    now: () => now,
    sleep: async (ms: number) => void (now += ms),
    info: (line: string) => void lines.push(line),
    redact: (text: string) => text.split(DB_PASSWORD).join('***'),
    get:
      (answer: (request: SmokeRequest, n: number) => SmokeAnswer): SmokeGet =>
      async request => {
        requests.push(request)
        now += takesMs
        return answer(request, requests.length)
      }
  }
}

describe('runSmokeCheck', () => {
  const check = (raw: string, timeout = '60s', codes = '200-399') =>
    readSmokeCheck(read({ 'smoke-url': raw, 'smoke-timeout': timeout, 'smoke-expect': codes }))!

  it('passes once every URL answered an expected status; one that passed is not asked again', async () => {
    const c = clock()
    const get = c.get(request => (request.url.endsWith('/a') || c.requests.length > 4 ? { status: 200, body: 'ok' } : { status: 503, body: 'starting' }))
    const result = await runSmokeCheck(check('http://h.example/a, http://h.example/b'), { ...c, get })
    expect(result.passed).toBe(true)
    expect(result.urls.map(u => [u.url, u.passed, u.attempts, u.status])).toEqual([
      ['http://h.example/a', true, 1, 200],
      ['http://h.example/b', true, 4, 200]
    ])
    expect(c.requests.filter(r => r.url.endsWith('/a'))).toHaveLength(1)
    expect(c.lines[0]).toBe('GET http://h.example/a, http://h.example/b until each answers 200-399, for up to 60s')
    expect(c.lines.at(-1)).toMatch(/^Smoke check passed: http:\/\/h\.example\/a 200, http:\/\/h\.example\/b 200 \(\d+\.\d+s\)$/)
  })

  it('fails at the deadline with the last status and a redacted excerpt, in a few progress lines', async () => {
    const c = clock()
    const get = c.get(() => ({ status: 404, body: `<h1>Not Found</h1> db=${DB_PASSWORD}` }))
    const started = c.now()
    const result = await runSmokeCheck(check('http://h.example/health', '60s'), { ...c, get })
    expect(result).toMatchObject({ passed: false, expect: '200-399' })
    expect(result.urls[0]).toMatchObject({ status: 404, excerpt: '<h1>Not Found</h1> db=***', passed: false })
    // 1, 2, 4, then every 5 s: 14 requests in 60 s, the last at the deadline.
    expect(c.requests).toHaveLength(15)
    expect(c.now() - started).toBeLessThanOrEqual(60_000 + 1_000)
    const progress = c.lines.filter(l => l.startsWith('Smoke check: '))
    expect(progress.length).toBeGreaterThanOrEqual(5)
    expect(progress.length).toBeLessThanOrEqual(7)
    expect(progress[0]).toMatch(/^Smoke check: 0\/1 pass; http:\/\/h\.example\/health 404 \(\d+s left\)$/)
    expect(c.lines.slice(-2)).toEqual([
      'Smoke check failed: GET http://h.example/health answered 404 (expected 200-399; 15 attempts)',
      '    body: <h1>Not Found</h1> db=***'
    ])
    expect(c.lines.join('\n')).not.toContain(DB_PASSWORD)
  })

  it('gives each request a deadline, and takes an adapter that throws as an answer', async () => {
    const c = clock()
    const get: SmokeGet = async request => {
      c.requests.push(request)
      await c.sleep(request.timeoutMs)
      throw new Error('socket hang up')
    }
    const result = await runSmokeCheck(check('http://h.example/', '12s'), { ...c, get })
    expect(result.passed).toBe(false)
    expect(result.urls[0]!.error).toBe('socket hang up')
    expect(c.requests.map(r => r.timeoutMs)).toEqual([10_000, 1_000])
    expect(c.lines.at(-1)).toBe('Smoke check failed: GET http://h.example/ failed: socket hang up (2 attempts)')
  })
})

describe('httpGet, the real adapter, against a server on loopback', () => {
  let server: http.Server
  let base = ''
  const seen: http.IncomingHttpHeaders[] = []
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      seen.push(request.headers)
      if (request.url === '/redirect') response.writeHead(302, { location: 'http://192.0.2.1/elsewhere' }).end('moved')
      else if (request.url === '/big') response.writeHead(500).end('x'.repeat(1_000_000))
      else if (request.url === '/silent')
        return // never answers
      else response.writeHead(404, { 'content-type': 'text/plain' }).end('not here')
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })

  it('returns the status and the start of the body, with the Basic auth header', async () => {
    const [url] = parseSmokeUrls('smoke-url', `${base.replace('http://', 'http://ci:pw-123456@')}/health`)
    expect(await httpGet(smokeRequest(url!, 5000))).toEqual({ status: 404, body: 'not here' })
    expect(seen.at(-1)!.authorization).toBe(`Basic ${Buffer.from('ci:pw-123456').toString('base64')}`)
  })

  it('does not follow a redirect', async () => {
    expect(await httpGet({ url: `${base}/redirect`, headers: {}, timeoutMs: 5000 })).toEqual({ status: 302, body: 'moved' })
  })

  it('reads no more of a body than an excerpt needs', async () => {
    const answer = await httpGet({ url: `${base}/big`, headers: {}, timeoutMs: 5000 })
    expect(answer).toMatchObject({ status: 500 })
    expect((answer as { body: string }).body.length).toBe(BODY_BYTES)
  })

  it('gives up on a silent server at its deadline, and names a refused connection', async () => {
    const started = Date.now()
    expect(await httpGet({ url: `${base}/silent`, headers: {}, timeoutMs: 300 })).toEqual({ error: 'no answer within 0.3s' })
    expect(Date.now() - started).toBeLessThan(3000)
    const closed = http.createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise(resolve => closed.close(resolve))
    expect(await httpGet({ url: `http://127.0.0.1:${port}/`, headers: {}, timeoutMs: 2000 })).toEqual({ error: 'connection refused' })
  })
})

describe('the engine with a smoke check', () => {
  const URL_TOKEN = 'tok-smoke-7d3f9a2b'
  const URL_PASSWORD = 'smoke-pass-91c2'
  const smokeUrl = `http://probe:${URL_PASSWORD}@shop.example.test:8080/health?token=${URL_TOKEN}`

  async function deploy(answer: (deploys: number) => SmokeAnswer, world: WorldOptions = {}, overrides: Partial<Inputs> = {}) {
    const fake = fakeWorld(world)
    fake.files.set('docker-compose.yml', COMPOSE)
    const requests: SmokeRequest[] = []
    fake.adapters.smokeGet = async request => {
      requests.push(request)
      return answer(fake.effects.filter(e => e === 'stack deploy').length)
    }
    const reporter = recordingReporter()
    const smoke = readSmokeCheck(read({ 'smoke-url': smokeUrl, 'smoke-timeout': '20s' }))
    const outcome = await runDeploy(inputsFor({ smoke, ...overrides }), fake.host, fake.adapters, reporter)
    return { ...fake, reporter, outcome, requests }
  }
  const releases = (configs: Map<string, StoredConfig>) => [...configs.values()].flatMap(c => decodeRelease(c) ?? []).sort((a, b) => a.number - b.number)

  it('checks after the rollout converged and stays converged when the URL passes', async () => {
    const { outcome, reporter, requests } = await deploy(() => ({ status: 200, body: 'ok' }))
    expect(outcome.status).toBe('converged')
    const phases = reporter.phases()
    expect(phases.indexOf('Smoke check')).toBe(phases.indexOf('Wait for the rollout') + 1)
    expect(requests).toHaveLength(1)
    expect(requests[0]!.url).toBe(`http://shop.example.test:8080/health?token=${URL_TOKEN}`)
    expect(reporter.lines()).toContain('Smoke check passed: http://***@shop.example.test:8080/health?token=*** 200')
    expect(outcome.report!.smoke).toEqual([{ title: 'Smoke check', result: expect.objectContaining({ passed: true }) }])
  })

  it('a failing check makes the run failed, the release failed (not the live one), with the answer in the log and the summary', async () => {
    const first = await deploy(() => ({ status: 200, body: 'ok' }))
    const { outcome, reporter, configs } = await deploy(() => ({ status: 404, body: `Not Found: ${DB_PASSWORD} \`|<b>` }), {
      configs: [...first.configs.values()]
    })
    expect(outcome.status).toBe('failed')
    expect(exitCode(outcome)).toBe(1)
    expect(outcome.verdict!.summary).toMatch(
      /^Stack shop converged, but the smoke check failed after 2\ds: GET http:\/\/\*\*\*@shop\.example\.test:8080\/health\?token=\*\*\* answered 404 \(expected 200-399; \d+ attempts\)$/
    )
    expect(releases(configs).map(r => [r.number, r.status])).toEqual([
      [1, 'converged'],
      [2, 'failed']
    ])
    expect(Object.fromEntries(deployOutputs(outcome))).toMatchObject({ status: 'failed', release: '1', 'previous-release': '1' })
    expect(reporter.lines()).toContain('    body: Not Found: *** `|<b>')
    const summary = renderSummary(outcome.report!)
    expect(summary).toContain('## swarm-deploy: stack `shop` ❌ failed')
    expect(summary).toMatch(/### Smoke check: ❌ failed after 2\d\.\ds \(expected 200-399\)/)
    expect(summary).toContain('- `http://***@shop.example.test:8080/health?token=***` ❌ answered 404 (expected 200-399; ')
    expect(summary).toContain('  - body: ``Not Found: *** `\\|<b>``')
    expect(renderText(outcome.report!)).toContain('    body: Not Found: *** `|<b>')
    for (const text of [summary, reporter.lines(), JSON.stringify(outcome)]) {
      for (const secret of [URL_TOKEN, URL_PASSWORD, DB_PASSWORD]) expect(text).not.toContain(secret)
    }
  })

  it('a failure of the smoke check alone has no Diagnostics phase (no task failed) and no empty "no failed task" line', async () => {
    const { outcome, reporter } = await deploy(() => ({ status: 404, body: 'Not Found' }))
    expect(outcome.status).toBe('failed')
    expect(reporter.phases()).toContain('Smoke check')
    expect(reporter.phases()).not.toContain('Diagnostics')
    expect(reporter.lines()).not.toContain('No failed task')
    expect(outcome.diagnoses).toEqual([])
  })

  it('registers the URL secrets before anything is printed', async () => {
    const { reporter } = await deploy(() => ({ status: 200, body: 'ok' }))
    const firstOther = reporter.events.findIndex(e => e.kind !== 'secret')
    expect(reporter.events.slice(0, firstOther).map(e => e.text)).toEqual(expect.arrayContaining([URL_TOKEN, URL_PASSWORD]))
  })

  it('with on-failure: rollback-stack, puts the last converged release back, checks it too, and reports rolled-back', async () => {
    const first = await deploy(() => ({ status: 200, body: 'ok' }))
    const { outcome, configs, requests, reporter } = await deploy(
      deploys => (deploys === 1 ? { status: 404, body: 'gone' } : { status: 200, body: 'ok' }),
      {
        configs: [...first.configs.values()]
      },
      { onFailure: 'rollback-stack' }
    )
    expect(outcome.status).toBe('rolled-back')
    expect(exitCode(outcome)).toBe(1)
    expect(outcome.verdict!.summary).toMatch(/^Stack shop was rolled back to release #1: Stack shop converged, but the smoke check failed/)
    expect(releases(configs).map(r => [r.number, r.status, r.rollbackTo])).toEqual([
      [1, 'converged', undefined],
      [2, 'rolled-back', undefined],
      [3, 'converged', 1]
    ])
    expect(requests.length).toBeGreaterThan(2)
    expect(reporter.phases().filter(p => p === 'Smoke check')).toHaveLength(2)
    expect(Object.fromEntries(deployOutputs(outcome))).toMatchObject({ status: 'rolled-back', release: '3' })
    expect(outcome.report!.smoke!.map(s => [s.title, s.result.passed])).toEqual([
      ['Smoke check', false],
      ['Smoke check of release #1, put back', true]
    ])
    expect(renderSummary(outcome.report!)).toContain('### The deploy that was undone: ❌ failed')
  })

  it('checks a rollback to a recorded release too', async () => {
    const first = await deploy(() => ({ status: 200, body: 'ok' }))
    const { outcome, requests, configs } = await deploy(
      () => ({ status: 503, body: 'down' }),
      { configs: [...first.configs.values()] },
      {
        rollback: { kind: 'number', number: 1 }
      }
    )
    expect(requests.length).toBeGreaterThan(0)
    expect(outcome.status).toBe('failed')
    expect(releases(configs).map(r => [r.number, r.status, r.rollbackTo])).toEqual([
      [1, 'converged', undefined],
      [2, 'failed', 1]
    ])
  })

  it('checks nothing when the rollout did not converge', async () => {
    const { outcome, requests, reporter } = await deploy(() => ({ status: 200, body: 'ok' }), { scenario: 'crash' })
    expect(outcome.status).not.toBe('converged')
    expect(requests).toHaveLength(0)
    expect(reporter.phases()).not.toContain('Smoke check')
    // Tasks failed: their diagnostics are shown as without a smoke check.
    expect(reporter.phases()).toContain('Diagnostics')
  })

  it('without smoke-url, asks nothing', async () => {
    const { outcome, requests } = await deploy(() => ({ status: 500, body: '' }), {}, { smoke: undefined })
    expect(outcome.status).toBe('converged')
    expect(requests).toHaveLength(0)
  })
})

// docker-modem (dockerode's HTTP layer) logs every Engine API request and
// reply through the `debug` module when DEBUG names it (DEBUG=* in a job's
// env is enough): service specs with their env values, unredacted, four
// times a second. Whatever client the API uses must print nothing of that
// whatever DEBUG says.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'

const MARKER = 'marker-value-that-must-not-print-7f3a'
let dir: string
let server: http.Server
const saved = process.env.DEBUG

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sd-debug-'))
  // A stand-in engine: every list answers with a spec that holds the marker.
  server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json')
    const spec = { ID: 's1', Spec: { Name: 'web_app', TaskTemplate: { ContainerSpec: { Image: 'x', Env: [`DB_PASSWORD=${MARKER}`] } } } }
    res.end(JSON.stringify(req.url?.startsWith('/services') ? [spec] : []))
  })
  await new Promise<void>(resolve => server.listen(path.join(dir, 'engine.sock'), () => resolve()))
})

afterAll(async () => {
  await new Promise<void>(resolve => server.close(() => resolve()))
  rmSync(dir, { recursive: true, force: true })
  if (saved === undefined) delete process.env.DEBUG
  else process.env.DEBUG = saved
})

describe('the Engine API client', () => {
  it('prints no Engine API reply with DEBUG=*, and leaves DEBUG as it was', async () => {
    process.env.DEBUG = '*'
    // Loaded only now, so that the debug module reads DEBUG=* as in a job.
    const { engineApi } = await import('../../../src/swarm/api.js')
    const written: string[] = []
    const capture = (chunk: unknown): boolean => {
      written.push(String(chunk))
      return true
    }
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture as never)
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture as never)
    const api = engineApi(path.join(dir, 'engine.sock'))
    let snapshot
    try {
      snapshot = await api.snapshot('web')
    } finally {
      api.close()
      stderr.mockRestore()
      stdout.mockRestore()
    }
    expect(JSON.stringify(snapshot)).toContain(MARKER)
    expect(written.join('')).not.toContain(MARKER)
    expect(process.env.DEBUG).toBe('*')
  })
})

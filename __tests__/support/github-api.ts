// A stand-in for the GitHub REST API's deployments: a real HTTP server on
// 127.0.0.1 that records every request, reached through GITHUB_API_URL.
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Recorded {
  method: string
  path: string
  authorization: string | undefined
  body: Record<string, unknown> | undefined
}

export interface GitHubStandIn {
  url: string
  requests: Recorded[]
  close(): Promise<void>
}

/** `deny`: answer every request with this status (403, 404), as GitHub does without the permission. */
export async function githubStandIn(options: { deny?: number; hang?: boolean } = {}): Promise<GitHubStandIn> {
  const requests: Recorded[] = []
  let nextId = 100
  const deployments: Array<{ id: number; environment: string }> = [{ id: 7, environment: 'lab' }]
  const server = http.createServer((req, res) => {
    let text = ''
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
    req.on('end', () => {
      const body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>)
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      requests.push({ method: req.method ?? '', path: url.pathname + url.search, authorization: req.headers.authorization, body })
      const reply = (status: number, data: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(data))
      }
      if (options.hang) return
      if (options.deny) return reply(options.deny, { message: 'Resource not accessible by integration' })
      const repo = /^\/repos\/([^/]+)\/([^/]+)\/deployments(?:\/(\d+)\/statuses)?$/.exec(url.pathname)
      if (!repo) return reply(404, { message: 'Not Found' })
      if (repo[3] && req.method === 'POST') return reply(201, { id: nextId++, state: body?.state })
      if (req.method === 'POST') {
        const deployment = { id: nextId++, environment: String(body?.environment) }
        deployments.push(deployment)
        return reply(201, deployment)
      }
      if (req.method === 'GET') return reply(200, deployments.filter(d => d.environment === url.searchParams.get('environment')).reverse())
      reply(404, { message: 'Not Found' })
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

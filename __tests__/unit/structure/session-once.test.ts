// The connection lifecycle exists once: every entry point (the deploy, the
// refresh, releases, unlock, the post step) opens the swarm through
// withSession (src/session.ts), and nothing else opens a tunnel, an Engine
// API client or a work dir, or checks the engine.
import { readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'

const SRC = path.resolve('src')
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []
  )
const sources = files(SRC).map(file => ({ file: path.relative(SRC, file), text: readFileSync(file, 'utf8') }))
const where = (pattern: RegExp): string[] => sources.filter(s => pattern.test(s.text)).map(s => s.file)

describe('the swarm session', () => {
  it('is the only place that opens a tunnel, an Engine API client or a work dir, and checks the engine', () => {
    expect(where(/adapters\.openTunnel\(/)).toEqual(['session.ts'])
    expect(where(/adapters\.swarmApi\(/)).toEqual(['session.ts'])
    expect(where(/\bcreateWorkdir\(/)).toEqual(['session.ts', 'workdir.ts'])
    expect(where(/function checkManager\b/)).toEqual(['session.ts'])
    expect(where(/\bcheckManager\(/)).toEqual(['session.ts'])
  })

  it('is what every entry point uses', () => {
    for (const entry of ['engine.ts', 'refresh-auth.ts', 'release/list.ts', 'cli/unlock.ts', 'action/post-swarm.ts'])
      expect(sources.find(s => s.file === entry)?.text).toMatch(/\bwithSession\(/)
  })

  it('is not the deploy: only the front ends import the deploy use case', () => {
    expect(where(/from '\.{1,2}\/(?:\.\.\/)*engine\.js'/).sort()).toEqual(['cli/main.ts', 'main.ts'])
  })
})

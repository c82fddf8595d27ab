// The import graph of src/: no cycle, and the ports import no implementation
// (STYLE.md 12: the seam declares the interfaces, each implementation imports
// it, never the other way round). Type-only imports and re-exports count: a
// cycle through types is still two files that cannot be read apart.
// TypeScript's own preProcessFile reads the imports, dynamic ones included.
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

type Graph = Map<string, Set<string>>

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap(entry =>
    entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : []
  )
}

/** What a file imports: src/ files for relative specifiers (`.js` read as `.ts`), the specifier itself for packages and built-ins. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true)
  return importedFiles.map(({ fileName: spec }) => {
    if (!spec.startsWith('.')) return spec
    const target = path.join(path.dirname(file), spec).replace(/\.js$/, '.ts')
    if (target.endsWith('.ts')) return target
    return existsSync(path.join(ROOT, `${target}.ts`)) ? `${target}.ts` : path.join(target, 'index.ts')
  })
}

function importGraph(): Graph {
  const files = sourceFiles('src')
  return new Map(files.map(file => [file, new Set(importsOf(file).filter(target => files.includes(target)))]))
}

/** The import cycles: strongly connected components of more than one file, or a file that imports itself (Tarjan). */
function cyclesOf(graph: Graph): string[][] {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const strong = (v: string): void => {
    index.set(v, counter)
    low.set(v, counter)
    counter += 1
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || graph.get(v)?.has(v)) cycles.push(component.sort())
  }
  for (const v of graph.keys()) if (!index.has(v)) strong(v)
  return cycles
}

const isPort = (file: string): boolean => file === 'src/ports.ts' || file.startsWith('src/ports/')
// The Engine API's own objects, which the SwarmApi port speaks: data only,
// and it imports nothing (checked below), so no implementation comes in with it.
const PORT_DATA = ['src/swarm/model.ts']

describe('the import graph of src/', () => {
  const graph = importGraph()

  it('has no import cycle', () => {
    const cycles = cyclesOf(graph)
    expect(cycles.map(cycle => `import cycle: ${cycle.join(' ↔ ')}`)).toEqual([])
  })

  it('has ports that import only other ports, their data, node built-ins and packages', () => {
    const ports = [...graph.keys()].filter(isPort)
    expect(ports).toContain('src/ports.ts')
    const wrong = ports.flatMap(port =>
      importsOf(port)
        .filter(target => target.startsWith('src/') && !isPort(target) && !PORT_DATA.includes(target))
        .map(target => `${port} imports ${target}`)
    )
    expect(wrong).toEqual([])
    for (const data of PORT_DATA) expect([...graph.get(data)!]).toEqual([])
  })

  it('is read whole: type-only imports, re-exports and dynamic imports are edges', () => {
    expect(graph.get('src/ports.ts')).toContain('src/ports/tunnel.ts') // export type * from
    expect(graph.get('src/adapters.ts')).toContain('src/ports.ts') // import type
    expect(graph.get('src/preview/service-view.ts')).toContain('src/preview/spec-values.ts') // export { … } from
    expect(importsOf('src/registry/credentials/ecr.ts')).toContain('@aws-sdk/client-ecr') // await import(…)
  })
})

describe('cyclesOf', () => {
  const graph = (edges: Record<string, string[]>): Graph => new Map(Object.entries(edges).map(([from, to]) => [from, new Set(to)]))

  it('names every file of a cycle, and each cycle once', () => {
    expect(cyclesOf(graph({ a: ['b'], b: ['c'], c: ['a'], d: ['a'], e: ['f'], f: ['e'] }))).toEqual([
      ['a', 'b', 'c'],
      ['e', 'f']
    ])
  })

  it('finds no cycle in a graph without one, and one in a file that imports itself', () => {
    expect(cyclesOf(graph({ a: ['b', 'c'], b: ['c'], c: [] }))).toEqual([])
    expect(cyclesOf(graph({ a: ['a'] }))).toEqual([['a']])
  })
})

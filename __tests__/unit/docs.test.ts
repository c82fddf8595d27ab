// The README and docs/ name the test of each claim and link to each other:
// a test file moved or a section moved to another page must not leave a
// reader at a path or an anchor that is not there.
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const PAGES = ['README.md', 'DEVELOPERS.md', 'lab/README.md', 'bench/README.md', ...readdirSync(path.join(ROOT, 'docs')).map(f => `docs/${f}`)].filter(p =>
  p.endsWith('.md')
)
const read = (page: string): string => readFileSync(path.join(ROOT, page), 'utf8')

/** Outside fenced code blocks, where Markdown reads links and headings. */
const prose = (text: string): string => text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '')

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
const slug = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')

const anchorsOf = (page: string): Set<string> => new Set([...prose(read(page)).matchAll(/^#{1,6} +(.+)$/gm)].map(m => slug(m[1]!.trim())))

describe('the README and docs/', () => {
  it('name only test files that exist', () => {
    const missing = PAGES.flatMap(page => [...read(page).matchAll(/__tests__\/[\w./-]+?\.test\.ts/g)].map(m => `${page}: ${m[0]}`)).filter(
      named => !existsSync(path.join(ROOT, named.split(': ')[1]!))
    )
    expect(missing).toEqual([])
  })

  it('link only to files and headings that exist', () => {
    const broken: string[] = []
    for (const page of PAGES) {
      for (const [, target] of prose(read(page)).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue
        const [file, anchor] = target!.split('#') as [string, string | undefined]
        const linked = file === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file))
        if (!existsSync(path.join(ROOT, linked))) broken.push(`${page}: ${target} (no file ${linked})`)
        else if (anchor !== undefined && !anchorsOf(linked).has(anchor)) broken.push(`${page}: ${target} (no heading #${anchor} in ${linked})`)
      }
    }
    expect(broken).toEqual([])
  })

  it('keep the two commands for a fresh machine in the README', () => {
    expect(read('README.md')).toContain('npm ci && npm run demo')
    expect(read('README.md')).toContain('npm test ')
  })
})

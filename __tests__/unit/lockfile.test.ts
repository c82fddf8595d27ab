// npm ci checks every tarball it fetches against the lockfile's integrity;
// an entry without one would be installed unchecked on the platform it is for.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

describe('package-lock.json', () => {
  it('pins every package by a sha512 integrity, the optional platform bindings too', () => {
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { integrity?: string; link?: boolean }> }
    const entries = Object.entries(lock.packages).filter(([name, entry]) => name !== '' && !entry.link)
    expect(entries.length).toBeGreaterThan(300)
    expect(entries.filter(([, entry]) => !/^sha512-[A-Za-z0-9+/]{86}==$/.test(entry.integrity ?? '')).map(([name]) => name)).toEqual([])
  })
})

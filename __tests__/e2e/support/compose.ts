// What the compose-spec e2e test watches while a run goes on: every file in
// the runner's temp folder (the run's work dir is made there), and the
// stack's deploy lock as the swarm holds it.
import { readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import type { Lab } from '../harness.js'
import { dockerAsync } from '../harness.js'

export interface Watched {
  /** Every regular file seen under the folder, with the last text read from it. */
  files: Map<string, string>
  /** The deploy lock's data (taken, expires), as first read. */
  lock: { taken: string; expires: string } | undefined
}

function readTree(dir: string, into: Map<string, string>): void {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return // removed meanwhile
  }
  for (const entry of entries) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) readTree(file, into)
    else if (entry.isFile()) {
      try {
        into.set(file, readFileSync(file, 'utf8'))
      } catch {
        // removed meanwhile
      }
    }
  }
}

/** Polls until stop(): the files under `dir` and the lock of `stack`. */
export function watchRun(lab: Lab, dir: string, stack: string): { stop(): Promise<Watched> } {
  const watched: Watched = { files: new Map(), lock: undefined }
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      readTree(dir, watched.files)
      if (watched.lock === undefined) {
        const data = await dockerAsync(lab, ['config', 'inspect', `${stack}_lock`, '--format', '{{json .Spec.Data}}']).catch(() => '')
        if (data.trim() !== '') watched.lock = JSON.parse(Buffer.from(JSON.parse(data) as string, 'base64').toString('utf8')) as Watched['lock']
      }
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  })()
  return {
    stop: async () => {
      stopped = true
      await loop
      return watched
    }
  }
}

/** A release record's data as the swarm holds it. */
export function releaseRecord(lab: Lab, stack: string, number: number): Promise<{ compose: Array<{ path: string; text: string }>; variables: string[] }> {
  return dockerAsync(lab, ['config', 'inspect', `${stack}_release_${number}`, '--format', '{{json .Spec.Data}}']).then(
    data =>
      JSON.parse(Buffer.from(JSON.parse(data) as string, 'base64').toString('utf8')) as { compose: Array<{ path: string; text: string }>; variables: string[] }
  )
}

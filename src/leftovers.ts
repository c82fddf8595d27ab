// What a run has on the runner until it ends, and the cleanup when it cannot
// end by itself: cancelled (SIGINT, then SIGTERM from the runner) or killed.
// The engine records its work dir (the throwaway DOCKER_CONFIG with the
// registry login), the compose copies and every docker child's process
// group here as it makes them, and releases each once it is gone. On a
// signal the front end stops the groups and removes the paths within a few
// seconds; the Action also saves the paths with `saveState` as they change,
// so its post step removes them after a main step that was killed outright.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import * as path from 'node:path'
import type { Leftovers, SwarmLeftover } from './ports.js'

/** SIGTERM, then SIGKILL for a group still there after this. */
const GRACE_MS = 2_000
/** The cancel hooks' bound, all together: the runner sends SIGKILL 7.5 s after its first signal. */
const HOOKS_MS = 2_000

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false // gone
  }
}

/** Some process of the group still runs (a zombie waiting for its parent does not count). */
export function groupAlive(pgid: number): boolean {
  if (!existsSync('/proc/self/stat')) return signalGroup(pgid, 0 as unknown as NodeJS.Signals)
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true
    } catch {
      // ended meanwhile
    }
  }
  return false
}

export class RunLeftovers implements Leftovers {
  private readonly paths = new Set<string>()
  private readonly groups = new Set<number>()
  private readonly hooks: Array<{ fn: () => Promise<unknown>; as: SwarmLeftover | undefined }> = []
  private stopped = false

  /**
   * @param onPaths told the paths whenever they change (the Action saves them for its post step)
   * @param onSwarm told what the cancel hooks would do on the swarm whenever that changes (the same)
   */
  constructor(
    private readonly onPaths: (paths: string[]) => void = () => undefined,
    private readonly onSwarm: (items: SwarmLeftover[]) => void = () => undefined
  ) {}

  /** cleanUp has begun: the run was cancelled. */
  get cancelled(): boolean {
    return this.stopped
  }

  path(file: string): () => void {
    this.paths.add(file)
    this.onPaths([...this.paths])
    return () => {
      if (this.paths.delete(file)) this.onPaths([...this.paths])
    }
  }

  processGroup(pid: number): () => void {
    // A child started while the run is being cancelled does not get to run.
    if (this.stopped) signalGroup(pid, 'SIGKILL')
    this.groups.add(pid)
    return () => void this.groups.delete(pid)
  }

  onCancel(fn: () => Promise<unknown>, as?: SwarmLeftover): () => void {
    const hook = { fn, as }
    this.hooks.push(hook)
    if (as) this.swarmChanged()
    return () => {
      const at = this.hooks.indexOf(hook)
      if (at < 0) return
      this.hooks.splice(at, 1)
      if (as) this.swarmChanged()
    }
  }

  private swarmChanged(): void {
    this.onSwarm(this.hooks.flatMap(h => (h.as ? [h.as] : [])))
  }

  /**
   * Runs the cancel hooks (newest first; they may still need the tunnel's
   * children), then stops every child process group and removes every path.
   * Bounded: about HOOKS_MS + GRACE_MS at most.
   */
  async cleanUp(): Promise<void> {
    this.stopped = true
    const hooks = this.hooks.splice(0).reverse()
    let done = false
    const running = (async () => {
      for (const hook of hooks) await hook.fn().catch(() => undefined)
      done = true
    })()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([running, new Promise(resolve => (timer = setTimeout(resolve, HOOKS_MS)))])
    clearTimeout(timer)
    // Hooks that did not finish in time stay saved: the post step settles what is still unsettled.
    if (done && hooks.some(h => h.as)) this.onSwarm([])
    const groups = [...this.groups]
    for (const pid of groups) signalGroup(pid, 'SIGTERM')
    const until = Date.now() + GRACE_MS
    while (groups.some(groupAlive) && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 50))
    for (const pid of groups) signalGroup(pid, 'SIGKILL')
    removePaths([...this.paths])
    this.paths.clear()
    this.onPaths([])
  }
}

/**
 * Only what a run of ours makes: a work dir (`sd-…`) or a compose copy
 * (`.swarm-deploy-<hex>-…`). Anything else in a saved state is not removed.
 */
export function isOurs(file: string): boolean {
  return path.isAbsolute(file) && /^(sd-[^/]+|\.swarm-deploy-[0-9a-f]+-[^/]+)$/.test(path.basename(file))
}

/** Removes the paths that are ours; returns those it removed. */
export function removePaths(paths: string[]): string[] {
  const removed: string[] = []
  for (const file of paths) {
    if (!isOurs(file)) continue
    rmSync(file, { recursive: true, force: true })
    removed.push(file)
  }
  return removed
}

/** Resolves with the first SIGINT or SIGTERM; later ones are ignored while the run cleans up. */
export function whenSignalled(): Promise<NodeJS.Signals> {
  return new Promise(resolve => {
    let first = true
    const on = (signal: NodeJS.Signals): void => {
      if (!first) return
      first = false
      resolve(signal)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}

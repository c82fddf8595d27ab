// What every run keeps of its phases and why it stopped, whatever the entry
// point (the deploy, the refresh): the front ends show both alike.
import type { Reporter } from './ports.js'

/** One phase of the run: its title, when it began (ms after the run began) and how long it took. */
export interface PhaseTime {
  title: string
  startMs: number
  ms: number
}

/**
 * Why a run stopped before there was a verdict. `input`: bad input, nothing
 * was done. `unreachable`: the registry or the swarm could not be reached.
 * `error`: anything else (a build that failed, a deploy command that failed).
 */
export interface Stopped {
  kind: 'input' | 'unreachable' | 'error'
  message: string
}

/** The registry or the swarm did not answer. */
export class UnreachableError extends Error {
  override name = 'UnreachableError'
}

export async function reaching<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    throw error instanceof UnreachableError ? error : new UnreachableError((error as Error).message)
  }
}

/** The reporter, with each phase's time also kept for the outcome. */
export function timingPhases(reporter: Reporter, now: () => number, startedAt: number, into: PhaseTime[]): Reporter {
  return {
    secret: value => reporter.secret(value),
    info: line => reporter.info(line),
    warn: line => reporter.warn(line),
    debug: line => reporter.debug(line),
    command: argv => reporter.command(argv),
    stream: (chunk, from) => reporter.stream(chunk, from),
    output: (name, value) => reporter.output(name, value),
    async phase(title, fn) {
      const began = now()
      try {
        return await reporter.phase(title, fn)
      } finally {
        into.push({ title, startMs: began - startedAt, ms: now() - began })
      }
    }
  }
}

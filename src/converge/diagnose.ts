// What a person needs to act on a failed rollout, printed before the error:
// each failed task's error, exit code and node, and its last log lines.
import type { TaskFailure, Verdict } from './verdict.js'
import type { SwarmApi } from '../ports.js'

export interface Diagnosis {
  failure: TaskFailure
  logTail: string
  /** What to do about it, where the failure is one this action can explain (a subnet still held elsewhere). */
  advice?: string
}

const MAX_TASKS = 6
const LOG_LINES = 20
const LOG_TIMEOUT_MS = 8_000

/**
 * Docker multiplexes stdout and stderr of a non-TTY container: frames of an
 * 8-byte header (stream, 3 zero bytes, big-endian length) and a payload.
 * Anything that does not parse as frames is returned as plain text.
 */
export function demuxLogs(buffer: Buffer): string {
  const parts: Buffer[] = []
  let offset = 0
  while (offset + 8 <= buffer.length) {
    const stream = buffer[offset]
    if ((stream !== 0 && stream !== 1 && stream !== 2) || buffer.readUIntBE(offset + 1, 3) !== 0) return buffer.toString('utf8')
    const size = buffer.readUInt32BE(offset + 4)
    parts.push(buffer.subarray(offset + 8, offset + 8 + size))
    offset += 8 + size
  }
  if (offset !== buffer.length) return buffer.toString('utf8')
  return Buffer.concat(parts).toString('utf8')
}

export function describeFailure(failure: TaskFailure): string {
  const slot = failure.slot !== undefined && failure.slot > 0 ? `.${failure.slot}` : ''
  const exit = failure.exitCode !== undefined && failure.exitCode !== 0 ? ` (exit code ${failure.exitCode})` : ''
  return `${failure.service}${slot} task ${failure.taskId.slice(0, 12)} on ${failure.node}: ${failure.state}: ${failure.error}${exit}`
}

/** The most recent failures first, a bounded number of them. */
export function failuresToShow(verdict: Verdict): TaskFailure[] {
  return verdict.services
    .flatMap(s => s.failures)
    .slice(-MAX_TASKS)
    .reverse()
}

export async function diagnose(api: Pick<SwarmApi, 'taskLogs'>, verdict: Verdict, sinceSeconds: number): Promise<Diagnosis[]> {
  const result: Diagnosis[] = []
  for (const failure of failuresToShow(verdict)) {
    let logTail: string
    try {
      // `service logs` can hang on an unreachable node: the signal bounds it.
      logTail = demuxLogs(await api.taskLogs(failure.taskId, sinceSeconds, LOG_LINES, LOG_TIMEOUT_MS)).trimEnd()
    } catch (error) {
      logTail = `(logs unavailable: ${(error as Error).message})`
    }
    result.push({ failure, logTail })
  }
  return result
}

// The smoke check's loop: GET every URL that has not passed yet, all at
// once, round after round, until all pass or the smoke timeout runs out.
// Every decision in it is a pure function of src/smoke/decide.ts.
import type { SmokeCheck } from '../inputs/smoke-inputs.js'
import type { SmokeResult, UrlResult } from './decide.js'
import {
  afterAnswer,
  checkPlan,
  describeFailure,
  newResult,
  nextWaitMs,
  progressLine,
  requestTimeoutMs,
  shouldReport,
  smokeRequest,
  smokeResult,
  stateKey
} from './decide.js'
import type { SmokeAnswer, SmokeGet } from '../ports.js'

export interface SmokeDeps {
  get: SmokeGet
  now: () => number
  sleep: (ms: number) => Promise<void>
  info: (line: string) => void
  /** Hides the run's secrets in what the service sent back. */
  redact: (text: string) => string
}

export async function runSmokeCheck(check: SmokeCheck, deps: SmokeDeps): Promise<SmokeResult> {
  const started = deps.now()
  const deadline = started + check.timeoutMs
  let results: UrlResult[] = check.urls.map(newResult)
  deps.info(checkPlan(check))
  let lastKey: string | undefined
  let lastAt = started
  for (let round = 0; ; round++) {
    const timeoutMs = requestTimeoutMs(deps.now(), deadline)
    results = await Promise.all(
      results.map(async (result, i) =>
        result.passed ? result : afterAnswer(result, await safely(deps.get, smokeRequest(check.urls[i]!, timeoutMs)), check.expect, deps.redact)
      )
    )
    if (results.every(r => r.passed)) break
    const wait = nextWaitMs(round, deps.now(), deadline)
    if (wait === undefined) break
    const key = stateKey(results)
    if (shouldReport(lastKey, key, deps.now() - lastAt)) {
      deps.info(progressLine(results, deadline - deps.now()))
      lastKey = key
      lastAt = deps.now()
    }
    await deps.sleep(wait)
  }
  const result = smokeResult(results, check.expect, deps.now() - started)
  if (result.passed) deps.info(`Smoke check passed: ${results.map(r => `${r.url} ${r.status}`).join(', ')} (${(result.ms / 1000).toFixed(1)}s)`)
  else
    for (const failing of results.filter(r => !r.passed)) {
      deps.info(`Smoke check failed: ${describeFailure(failing, result.expect)}`)
      if (failing.excerpt !== undefined) deps.info(`    body: ${failing.excerpt === '' ? '(empty)' : failing.excerpt}`)
    }
  return result
}

/** An adapter that throws is an answer too: the check goes on, and its deadline holds. */
async function safely(get: SmokeGet, request: Parameters<SmokeGet>[0]): Promise<SmokeAnswer> {
  try {
    return await get(request)
  } catch (error) {
    return { error: (error as Error).message || String(error) }
  }
}

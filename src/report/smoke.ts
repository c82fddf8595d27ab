// The "Smoke check" section of the job summary and of the terminal's
// summary: each URL's last answer and a body excerpt. Pure; the excerpt was
// redacted and cut when it was read (src/smoke/decide.ts), and `cell` and
// `code` are the summary's own escapes, so a body cannot break the Markdown.
import type { SmokeResult } from '../smoke/decide.js'
import { describeFailure } from '../smoke/decide.js'

/** One smoke check of the run: the deploy's, and the one of a release put back (on-failure: rollback-stack). */
export interface SmokeCheckReport {
  title: string
  result: SmokeResult
}

function verdictOf(result: SmokeResult): string {
  return `${result.passed ? 'passed' : 'failed'} after ${(result.ms / 1000).toFixed(1)}s (expected ${result.expect})`
}

export function renderSmoke(checks: SmokeCheckReport[], cell: (text: string) => string, code: (text: string) => string): string[] {
  const lines: string[] = []
  for (const { title, result } of checks) {
    lines.push('', `### ${cell(title)}: ${result.passed ? '✅' : '❌'} ${cell(verdictOf(result))}`, '')
    for (const url of result.urls) {
      const answer = url.passed
        ? `${url.status} after ${url.attempts} attempt${url.attempts === 1 ? '' : 's'}`
        : cell(describeFailure(url, result.expect).replace(`GET ${url.url} `, ''))
      lines.push(`- ${code(url.url)} ${url.passed ? '✅' : '❌'} ${answer}`)
      // A nested item: a line of its own under the URL's.
      if (!url.passed && url.excerpt !== undefined) lines.push(`  - body: ${url.excerpt === '' ? '(empty)' : code(url.excerpt)}`)
    }
  }
  return lines
}

export function smokeText(checks: SmokeCheckReport[]): string[] {
  const lines: string[] = []
  for (const { title, result } of checks) {
    lines.push('', `${title}: ${verdictOf(result)}`)
    for (const url of result.urls) {
      lines.push(`  ${url.passed ? `${url.url} ${url.status}` : describeFailure(url, result.expect)}`)
      if (!url.passed && url.excerpt !== undefined) lines.push(`    body: ${url.excerpt === '' ? '(empty)' : url.excerpt}`)
    }
  }
  return lines
}

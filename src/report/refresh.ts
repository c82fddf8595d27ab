// What a refresh of the stored registry credential did, per service: as a
// job summary and as terminal text. Pure; text from outside (Swarm's and the
// registry's errors) is escaped with the deploy summary's own escapes.
import type { RefreshOutcome } from '../refresh-auth.js'
import { STORED_EXPIRY } from '../registry/expiry.js'
import { cell, code } from './summary.js'

const BADGE = { refreshed: '✅ refreshed', failed: '❌ failed' } as const

export function renderRefreshSummary(outcome: RefreshOutcome): string {
  const lines = [
    `## swarm-deploy: registry credential of stack ${code(outcome.stack)} ${outcome.status ? BADGE[outcome.status] : '❌ failed'}`,
    '',
    `Registry ${code(outcome.registry)} · target ${outcome.target ? code(outcome.target) : '–'} · took ${outcome.seconds}s`
  ]
  if (outcome.expiresAt) lines.push('', STORED_EXPIRY.refreshSummary(outcome.expiresAt))
  if (outcome.shortLived) lines.push('', `⚠️ ${cell(outcome.shortLived)}`)
  if (outcome.stopped) lines.push('', cell(outcome.stopped.message))
  if (outcome.services.length > 0) {
    lines.push('', '| Service | Result |', '| --- | --- |', ...outcome.services.map(s => `| ${cell(s.name)} | ${cell(`${s.result}: ${s.detail}`)} |`))
  }
  return lines.join('\n') + '\n'
}

export function renderRefreshText(outcome: RefreshOutcome): string {
  const lines = [`Stack ${outcome.stack}: registry credential ${outcome.status ?? 'not refreshed'} (${outcome.registry}, ${outcome.seconds}s)`]
  if (outcome.expiresAt) lines.push(STORED_EXPIRY.refreshText(outcome.expiresAt))
  if (outcome.shortLived) lines.push(outcome.shortLived)
  for (const s of outcome.services) lines.push(`  ${s.name}  ${s.result}: ${s.detail}`)
  return lines.join('\n') + '\n'
}

// The Action's outputs (and the CLI's --json), from the outcome alone, in
// the order the run learns them. Whatever was known when a run stopped or was
// cancelled is given: an image pushed before a deploy that failed, a token's
// expiry before a connection that did not open.
import type { Outcome } from '../outcome.js'
import type { RefreshOutcome } from '../refresh-auth.js'
import { servicesOutput } from './summary.js'

export type Outputs = Array<[name: string, value: string]>

export function deployOutputs(outcome: Outcome): Outputs {
  const outputs: Outputs = []
  if (outcome.registryAuthExpires) outputs.push(['registry-auth-expires', outcome.registryAuthExpires])
  if (outcome.image) outputs.push(['image', outcome.image.pinned], ['digest', outcome.image.digest])
  if (outcome.plan) outputs.push(['plan', JSON.stringify(outcome.plan)])
  const { verdict, releaseNumbers } = outcome
  if (verdict) outputs.push(['status', verdict.status], ['services', servicesOutput(verdict)])
  if (releaseNumbers)
    outputs.push(
      ['release', releaseNumbers.live === undefined ? '' : String(releaseNumbers.live)],
      ['previous-release', releaseNumbers.previous === undefined ? '' : String(releaseNumbers.previous)]
    )
  if (outcome.pruned) outputs.push(['pruned', JSON.stringify(outcome.pruned)])
  return outputs
}

export function refreshOutputs(outcome: RefreshOutcome): Outputs {
  const outputs: Outputs = []
  if (outcome.expiresAt) outputs.push(['registry-auth-expires', outcome.expiresAt])
  if (outcome.status) outputs.push(['status', outcome.status])
  return outputs
}

// Scenario 1 in rounds: the action (a) and the bare CLI (b) side by side on
// the same update, in turn, each started cold, the order swapped every round.
// Swarm's own rollout varies by up to a second between runs (the healthcheck
// passes on a 1 s beat), more than the waiters differ, so each round is
// printed with the rollout Swarm took, and what each waiter added to it.
import { log, secs } from './lab.mjs'
import { fmtS, median, pad } from './format.mjs'

/**
 * `rounds` rounds of the scenario for (a) and (b): the image alternates
 * (v2, v1, v2…, both good), (a) goes first in even rounds and (b) in odd ones.
 * `measure(id, image)` runs one waiter and reads the swarm afterwards.
 */
export async function runRounds(scenario, rounds, measure) {
  const all = []
  for (let round = 0; round < rounds; round++) {
    const image = round % 2 === 0 ? scenario.image : scenario.before
    const order = round % 2 === 0 ? ['a', 'b'] : ['b', 'a']
    const results = {}
    for (const id of order) results[id] = await measure(id, image)
    all.push({ round: round + 1, image, first: order[0], a: results.a, b: results.b })
    log(`  round ${round + 1}: (a) ${fmtS(results.a.totalMs)}, (b) ${fmtS(results.b.totalMs)}`)
  }
  return all
}

/** Medians over the rounds whose verdicts were right, per waiter. */
export function roundMedians(rounds) {
  const of = (id, key) => median(rounds.filter(r => r[id].right).map(r => r[id][key]))
  const m = {}
  for (const id of ['a', 'b']) m[id] = { totalMs: of(id, 'totalMs'), rolloutMs: of(id, 'rolloutMs'), overheadMs: of(id, 'overheadMs'), lagMs: of(id, 'lagMs') }
  const right = rounds.filter(r => r.a.right && r.b.right)
  m.ratio = m.a.totalMs && m.b.totalMs ? m.a.totalMs / m.b.totalMs : null
  m.roundRatios = right.map(r => r.a.totalMs / r.b.totalMs)
  return m
}

const cell = r => `${pad(fmtS(r.totalMs), 8)}${pad(fmtS(r.rolloutMs), 9)}${pad(fmtS(r.overheadMs), 9)}${r.right ? '' : ' WRONG: ' + r.verdict}`

export function printRounds(title, rounds, disturbed) {
  const lines = [title, '-'.repeat(title.length)]
  lines.push("total: process start to exit. rollout: Swarm's own, UpdateStatus CompletedAt − StartedAt. overhead: total − rollout.")
  lines.push(
    `${pad('round', 7)}${pad('image', 7)}${pad('first', 7)}${pad('(a) total', 10)}${pad('rollout', 9)}${pad('overhead', 11)}${pad('(b) total', 10)}${pad('rollout', 9)}${pad('overhead', 11)}(a)/(b)`
  )
  for (const r of rounds) {
    const ratio = r.a.right && r.b.right ? `${(r.a.totalMs / r.b.totalMs).toFixed(2)}×` : 'n/a'
    lines.push(`${pad(r.round, 7)}${pad(r.image, 7)}${pad(`(${r.first})`, 7)}  ${cell(r.a)}  ${cell(r.b)}  ${ratio}`)
  }
  const m = roundMedians(rounds)
  lines.push(
    `${pad('median', 21)}  ${pad(fmtS(m.a.totalMs), 8)}${pad(fmtS(m.a.rolloutMs), 9)}${pad(fmtS(m.a.overheadMs), 9)}  ${pad(fmtS(m.b.totalMs), 8)}${pad(fmtS(m.b.rolloutMs), 9)}${pad(fmtS(m.b.overheadMs), 9)}  ${m.ratio == null ? 'n/a' : `${m.ratio.toFixed(2)}×`}`
  )
  const a = rounds.map(r => r.a).filter(r => r.right)
  const lag = id =>
    fmtS(
      median(
        rounds
          .map(r => r[id])
          .filter(r => r.right)
          .map(r => r.exitLagMs)
      )
    )
  lines.push(`median exit after Swarm's CompletedAt: (a) ${lag('a')}, (b) ${lag('b')}`)
  const deployed = median(a.map(r => r.deployReturnedMs))
  const afterVerdict = median(a.map(r => r.exitAfterVerdictMs))
  lines.push(
    `(a): docker stack deploy returned at +${fmtS(deployed)} (median); exit ${fmtS(afterVerdict)} after its verdict; its phases (median round): ${rounds[0] ? phaseLine(a) : '—'}`
  )
  if (disturbed?.length) lines.push(`lab: ${disturbed.join('; ')}`)
  console.log(lines.join('\n') + '\n')
  return m
}

/** Start-up (process start to the first phase), then each phase, of (a)'s median round by total. */
function phaseLine(runs) {
  const sorted = [...runs].sort((x, y) => x.totalMs - y.totalMs)
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]
  if (!mid?.phases?.length) return '—'
  const parts = [`start-up ${secs(mid.phases[0].startMs)} s`]
  for (const phase of mid.phases) parts.push(`${phase.title.replace(/ (stack|to) \S+$/, '')} ${secs(phase.ms)} s`)
  return parts.join(', ')
}

#!/usr/bin/env node
// `npm run bench`: how fast and how truthfully the action and the bare
// docker CLI report the verdict of the same Swarm rollouts on the lab swarm
// (the waiters are in waiters.mjs):
//
//   1. a successful update, in rounds, (a) the action and (b) `docker stack
//      deploy --detach=false` side by side (rounds.mjs);
//   2. a failing update and 3. an unschedulable one, with (c) a 5 s poller too;
//   then the action's cost on a 200-service and a 3-service stack, created
//   and updated, with the bare CLI beside it (scale.mjs).
//
// Prints figures and writes bench/results.json; asserts nothing. See bench/README.md.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fmtS, fmtSigned, met, pad } from './format.mjs'
import {
  ACTION_TIMEOUT,
  BASE_IMAGE,
  BOUND_S,
  buildImages,
  decisiveMoment,
  disturbance,
  GROUPS,
  LAB,
  labState,
  log,
  mustRun,
  prepareCliClient,
  removeStacks,
  RESULTS,
  ROOT,
  SCRATCH,
  secs,
  setupDeploy,
  STACKS,
  waitNodesReady,
  waitSettled
} from './lab.mjs'
import { printRounds, runRounds } from './rounds.mjs'
import { printScale, scaleGoalLines, scaleRun, SCALE_CLI } from './scale.mjs'
import { deployReturnedAt, waiterA, waiterB, waiterC } from './waiters.mjs'

const WAITERS = {
  a: { label: '(a) swarm-deploy (the action)', run: waiterA },
  b: { label: '(b) stack deploy --detach=false', run: waiterB },
  c: { label: '(c) 5 s poll (stack-wait style)', run: waiterC }
}

// A value the action masks: long enough that no other word of the log (the stack's name) is one.
const hello = image => ({ IMAGE: RESULTS.images[image], DB_PASSWORD: 'bench-db-password-0123', BASE_IMAGE: BASE_IMAGE })

const SCENARIOS = [
  {
    id: 'update',
    title: 'Scenario 1: successful update, (a) and (b) side by side in rounds (v2, v1, v2… in turn)',
    stackSuffix: '',
    before: 'v1',
    composeFiles: ['docker-compose.yml'],
    image: 'v2',
    right: v => v.startsWith('converged'),
    decisive: 'web',
    rounds: Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5))
  },
  {
    id: 'rollback',
    title: 'Scenario 2: failing update (→ bad; Swarm rolls back)',
    stackSuffix: '',
    before: null, // continues from scenario 1's stacks
    composeFiles: ['docker-compose.yml'],
    image: 'bad',
    right: v => v === 'rolled-back' || v.startsWith('failed'),
    decisive: 'web'
  },
  {
    id: 'unschedulable',
    title: 'Scenario 3: unschedulable update (adds a service no node can place)',
    stackSuffix: '-u',
    before: 'v2',
    composeFiles: ['docker-compose.yml', 'unschedulable.yml'],
    image: 'v2',
    right: v => v === 'timed-out' || v.startsWith('failed'),
    decisive: null // the swarm never decides: it keeps the task pending
  }
]

const stackOf = (waiter, scenario) => `bench-${waiter}${scenario.stackSuffix}`

/**
 * One waiter on one deploy of the scenario, then the swarm read afterwards:
 * the update's StartedAt and CompletedAt (Swarm's own rollout), and what the
 * waiter added to it. A total runs from process start to exit, as a step's.
 */
async function measure(id, scenario, image = scenario.image) {
  const stack = stackOf(id, scenario)
  const options = { stack, composeFiles: scenario.composeFiles, vars: hello(image), timeout: scenario.decisive ? ACTION_TIMEOUT : `${BOUND_S}s` }
  const result = await WAITERS[id].run(options)
  // Let the swarm finish (a wrong early verdict leaves it mid-update) before reading the decisive moment.
  if (scenario.decisive) {
    // Not fatal: a disturbed lab (see labState) must not cost the other figures.
    await waitSettled(stack).catch(error => (result.settleError = error.message))
    const moment = await decisiveMoment(`${stack}_${scenario.decisive}`, result.t0)
    result.decisiveState = moment.state
    result.decisiveAt = moment.at
    result.rolloutMs = moment.at == null ? null : moment.at - moment.startedAt
  }
  const end = result.exitedAt ?? result.verdictAt
  result.right = scenario.right(result.verdict)
  result.totalMs = end == null || result.killed ? null : end - result.t0
  result.lagMs = result.verdictAt == null || result.decisiveAt == null ? null : result.verdictAt - result.decisiveAt
  result.exitLagMs = end == null || result.decisiveAt == null ? null : end - result.decisiveAt
  result.overheadMs = result.totalMs == null || result.rolloutMs == null ? null : result.totalMs - result.rolloutMs
  if (id === 'a') {
    const returned = deployReturnedAt(result)
    result.deployReturnedMs = returned == null ? null : returned - result.t0
    result.exitAfterVerdictMs = result.stats?.verdictAt ? result.exitedAt - result.stats.verdictAt : null
  }
  log(`  ${WAITERS[id].label}: ${result.verdict}${result.totalMs == null ? '' : ` after ${secs(result.totalMs)} s`}`)
  return result
}

async function runScenario(scenario, waiterIds, { parallel }) {
  await waitNodesReady()
  log(`${scenario.title}: ${parallel ? 'waiters in parallel' : 'one waiter after the other'}`)
  const before = await labState()
  const results = parallel ? await Promise.all(waiterIds.map(id => measure(id, scenario))) : await serially(waiterIds, id => measure(id, scenario))
  const entry = { id: scenario.id, title: scenario.title, results, disturbed: disturbance(before, await labState()) }
  RESULTS.scenarios.push(entry)
  return entry
}

/** Deploy a scenario's starting version on each waiter's stack through the manager socket (not measured). */
async function prepareStarts(scenario) {
  log(`deploying ${scenario.before} as the starting point of "${scenario.id}" for each waiter (not measured)`)
  const stacks = Object.keys(WAITERS).map(w => stackOf(w, scenario))
  await Promise.all(stacks.map(stack => setupDeploy(stack, ['docker-compose.yml'], hello(scenario.before))))
  await Promise.all(stacks.map(stack => waitSettled(stack)))
}

async function serially(items, fn) {
  const out = []
  for (const item of items) out.push(await fn(item))
  return out
}

// ---------------------------------------------------------------------------
// Report

/** a/x, only when both waiters gave the right verdict and both figures are positive (else the ratio means nothing). */
function ratio(a, x, key) {
  if (!a.right || !x.right) return 'n/a (wrong or no verdict)'
  if (!(a[key] > 0) || !(x[key] > 0)) return 'n/a'
  return `${(a[key] / x[key]).toFixed(2)}×`
}

/** Start-up (process start to the first phase), then each phase of (a). */
function timeline(a) {
  const parts = [`start-up ${fmtS(a.phases[0]?.startMs)}`]
  for (const phase of a.phases) parts.push(`${phase.title.replace(/ (stack|to) \S+$/, '')} ${fmtS(phase.ms)}`)
  return parts.join(', ')
}

function printScenario({ title, results, disturbed }) {
  const lines = [title, '-'.repeat(title.length)]
  lines.push(`${pad('waiter', 34)}${pad('verdict', 34)}${pad('right', 7)}${pad('total', 10)}lag`)
  for (const r of results) {
    lines.push(`${pad(WAITERS[r.waiter].label, 34)}${pad(r.verdict, 34)}${pad(r.right ? 'yes' : 'NO', 7)}${pad(fmtS(r.totalMs), 10)}${fmtSigned(r.lagMs)}`)
  }
  const decisive = results.find(r => r.decisiveAt)
  if (decisive) {
    lines.push(`decisive moment: UpdateStatus.CompletedAt (${results.map(r => `${r.waiter}: ${r.decisiveState}`).join(', ')})`)
  } else {
    lines.push('decisive moment: none (Swarm keeps the task pending forever), so no lag')
  }
  const a = results.find(r => r.waiter === 'a')
  if (a) {
    const returned = deployReturnedAt(a)
    const deployed =
      (returned ? `; its docker stack deploy returned at +${secs(returned - a.t0).toFixed(1)} s` : '') +
      (a.deployedAt ? `; its wait began at +${secs(a.deployedAt - a.t0).toFixed(1)} s (after recording the release)` : '')
    lines.push(`(a) verdict time from ${a.verdictSource}; exit ${a.exitCode}${deployed}`)
    if (a.startedAt) lines.push(`(a) where the time went: ${timeline(a)}`)
    if (a.message) lines.push(`(a) says: ${a.message}`)
    for (const x of results.filter(r => r.waiter !== 'a')) {
      lines.push(`ratio (a)/${x.waiter === 'b' ? '(b)' : '(c)'}: total ${ratio(a, x, 'totalMs')}, lag ${ratio(a, x, 'lagMs')}`)
    }
  }
  for (const r of results.filter(r => r.settleError)) lines.push(`warning: ${WAITERS[r.waiter].label}: ${r.settleError}`)
  if (disturbed?.length) lines.push(`lab: ${disturbed.join('; ')}`)
  const b = results.find(r => r.waiter === 'b')
  if (b?.rollbackLine) lines.push(`(b) printed "${b.rollbackLine.slice(0, 90)}" and exited ${b.exitCode}`)
  const c = results.find(r => r.waiter === 'c')
  if (c?.cliCalls)
    lines.push(
      `(c) deploy returned at +${secs(c.deployedAt - c.t0).toFixed(1)} s; then ${c.cliCalls - 1} docker CLI calls over ssh:// (one SSH connection each) in ${c.polls} polls`
    )
  if (c?.verdict === 'rolled-back' && c.lagMs < 0) lines.push('(c) answered at rollback_started, before Swarm finished rolling back (negative lag)')
  console.log(lines.join('\n') + '\n')
}

/** The issue's goals, each with this run's figures next to it. */
function printGoals(update, rows) {
  const title = "Goals (issue #24), with this run's figures"
  const lines = [title, '-'.repeat(title.length)]
  if (update) {
    const { a, b, ratio } = update
    lines.push(
      `${met(ratio == null ? null : ratio <= 0.95)} 1. Successful update, median total: (a) ${fmtS(a.totalMs)}, (b) bare CLI ${fmtS(b.totalMs)}: ${ratio == null ? 'n/a' : `${ratio.toFixed(2)}×`} (goal: at most 0.95×)`
    )
    lines.push(
      `${met(a.overheadMs == null ? null : a.overheadMs <= 500)}    overhead beyond Swarm's rollout, median: (a) ${fmtS(a.overheadMs)}, (b) ${fmtS(b.overheadMs)} (goal: (a) at most 0.5 s)`
    )
  } else lines.push('   1. Successful update: scenario 1 did not run (BENCH_ONLY)')
  const sized = rows.filter(r => r.services >= 200 || r.services === Math.max(...rows.map(x => x.services)))
  for (const r of sized.filter(r => r.ratio != null || r.cliVerdict)) {
    lines.push(
      `${met(r.ratio == null ? null : r.ratio <= 1)} 2. ${r.services} services, ${r.phase}: (a) ${r.seconds} s, (b) ${r.cliSeconds} s (${r.cliVerdict}): ${r.ratio == null ? 'n/a' : `${r.ratio.toFixed(2)}×`} (goal: at most 1×)`
    )
  }
  if (rows.length > 0 && !SCALE_CLI) lines.push('   2. At scale: the bare CLI was left out (BENCH_SCALE_CLI=0)')
  if (rows.length > 0) lines.push('Earlier goals of the scale runs (issue #13):', ...scaleGoalLines(rows, SCALE))
  lines.push("The lab is shared and has 2 CPUs: compare figures taken in the same run, and see each table's lab line.")
  console.log(lines.join('\n') + '\n')
}

// ---------------------------------------------------------------------------

/** Stack sizes of the scale runs: a large stack, and a small one to compare with. */
const SCALE = [Number(process.env.BENCH_SCALE ?? 200), 3]

const ALL_STACKS = () => [
  ...new Set([...STACKS, ...['a', 'b', 'c'].flatMap(w => SCENARIOS.map(s => stackOf(w, s))), ...SCALE.flatMap(n => [`bench-scale${n}`, `bench-scale${n}-b`])])
]

// ---------------------------------------------------------------------------

/** BENCH_ONLY: `update` (scenario 1), `scenarios` (1 to 3), `scale` (the stack-size runs); unset, everything. */
const ONLY = process.env.BENCH_ONLY ?? 'all'
if (!['all', 'update', 'scenarios', 'scale'].includes(ONLY)) throw new Error(`BENCH_ONLY=${ONLY}: use update, scenarios or scale`)

/**
 * Fair starts for every waiter (not measured): the images on both nodes, so
 * that the first waiter to deploy a version does not pull it for the others,
 * and the action's files read once, as the docker CLI's binary has been.
 */
async function warmUp() {
  log('pulling the images on both nodes and reading the bundle once (not measured)')
  const env = node => ({ PATH: process.env.PATH, DOCKER_HOST: node, DOCKER_CONFIG: path.join(SCRATCH, 'cli-config') })
  for (const node of [LAB.managerDockerHost, LAB.workerDockerHost]) {
    for (const image of Object.values(RESULTS.images)) await mustRun('docker', ['pull', '--quiet', image], { env: env(node) })
  }
  // The runner has just downloaded the action: its files are in the page cache, its process is new.
  for (const file of readdirSync(path.join(ROOT, 'dist'))) if (file.endsWith('.js')) readFileSync(path.join(ROOT, 'dist', file))
}

async function main() {
  const started = Date.now()
  prepareCliClient()
  await waitNodesReady()
  log('removing stacks left by an earlier run, if any')
  await removeStacks(ALL_STACKS())
  const scaleRuns = async () => [...(await scaleRun(SCALE[0])), ...(await scaleRun(SCALE[1]))]
  const scenarios = []
  let scale = []
  let update

  if (ONLY !== 'scale') {
    log('building and pushing v1, v2 and bad with the runner docker (not measured)')
    await buildImages()
    for (const [name, image] of Object.entries(RESULTS.images)) log(`  ${name}: ${image}`)
    await warmUp()

    // Scenario 1 in rounds, (a) and (b) in turn; scenario 2 with all three, one after the other: no two timings share the 2 CPUs.
    await prepareStarts(SCENARIOS[0])
    const before = await labState()
    const rounds = await runRounds(SCENARIOS[0], SCENARIOS[0].rounds, (id, image) => measure(id, SCENARIOS[0], image))
    const disturbed = disturbance(before, await labState())
    RESULTS.rounds = { rounds, disturbed }
    update = printRounds(SCENARIOS[0].title, rounds, disturbed)
    if (ONLY !== 'update') {
      // (c) did not run in scenario 1: its stack starts from what the others' ended on.
      const last = rounds.at(-1).image
      await setupDeploy(stackOf('c', SCENARIOS[1]), ['docker-compose.yml'], hello(last))
      await waitSettled(stackOf('c', SCENARIOS[1]))
      const entry = await runScenario(SCENARIOS[1], Object.keys(WAITERS), { parallel: false })
      scenarios.push(entry)
      printScenario(entry)
    }
    // Every hello task runs a healthcheck each second (a `docker exec`): drop the finished stacks before starting more.
    await removeStacks(Object.keys(WAITERS).map(w => stackOf(w, SCENARIOS[0])))
  }

  if (ONLY === 'all' || ONLY === 'scenarios') {
    // Scenario 3 is bounded waiting, so its waiters run together.
    await prepareStarts(SCENARIOS[2])
    const unschedulable = await runScenario(SCENARIOS[2], Object.keys(WAITERS), { parallel: true })
    scenarios.push(unschedulable)
    printScenario(unschedulable)
    await removeStacks(Object.keys(WAITERS).map(w => stackOf(w, SCENARIOS[2])))
  }
  // After the scenarios, not beside them: (a) and (b) are compared at scale too.
  if (ONLY === 'all' || ONLY === 'scale') scale = await scaleRuns()
  if (scale.length > 0) printScale(scale)
  printGoals(update, scale)

  RESULTS.seconds = secs(Date.now() - started)
}

let failed = false
const cleanup = async () => {
  log('removing every stack this run created')
  await removeStacks(ALL_STACKS()).catch(error => log(`cleanup: ${error.message}`))
  rmSync(SCRATCH, { recursive: true, force: true })
}
process.on('SIGINT', async () => {
  // (b) runs in its own process group, so Ctrl-C does not reach it: an unschedulable deploy would wait forever.
  for (const group of GROUPS) {
    try {
      process.kill(-group, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  await cleanup()
  process.exit(130)
})
try {
  await main()
} catch (error) {
  failed = true
  console.error(`bench failed: ${error.stack ?? error}`)
  RESULTS.error = String(error.message ?? error)
} finally {
  writeFileSync(path.join(ROOT, 'bench/results.json'), JSON.stringify(RESULTS, null, 2) + '\n')
  await cleanup()
  console.log(`Figures written to bench/results.json (total ${RESULTS.seconds ?? '?'} s).`)
}
process.exit(failed ? 1 : 0)

// The GitHub Action: read the inputs, run the engine with the runner's
// reporter, then set the outputs, the job summary and the step's result.
// The same bundle is the post step (action.yml `post:`), told apart by the
// state the main step saves before anything else.
import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import { actionsReporter } from './action/reporter.js'
import type { ActionsReporter } from './action/reporter.js'
import { processHost, realAdapters } from './adapters.js'
import { runDeploy } from './engine.js'
import { emptyOutcome } from './outcome.js'
import type { Outputs } from './report/outputs.js'
import { deployOutputs, refreshOutputs } from './report/outputs.js'
import type { Outcome } from './outcome.js'
import { isFile } from './files.js'
import { getInputs } from './inputs/inputs.js'
import { getRefreshInputs, wantsRefresh } from './inputs/refresh-inputs.js'
import { emptyRefreshOutcome, runRefreshAuth } from './refresh-auth.js'
import { renderRefreshSummary } from './report/refresh.js'
import { INPUTS } from './inputs/table.js'
import { removePaths, RunLeftovers } from './leftovers.js'
import { renderSummary } from './report/summary.js'
import { renderPlanSummary } from './report/plan.js'
import { renderPruneSummary } from './report/prune-images.js'
import { inertText } from './report/plain-text.js'
import { ENV_SECRET_INPUTS, secretsOf } from './secrets.js'
import { settleMainStep } from './action/post-swarm.js'

/** Names of what the main step saves with `saveState` (the post step gets them as STATE_<name>). */
export const STATE = { post: 'isPost', leftovers: 'leftovers', swarm: 'swarmLeftovers' } as const

export function isPost(): boolean {
  return core.getState(STATE.post) === 'true'
}

/** The variables the runner gives secret inputs (and smoke-url) in (core.getInput's naming). */
export const SECRET_VARIABLES = ENV_SECRET_INPUTS.map(name => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`)

const never = new Promise<NodeJS.Signals>(() => undefined)

/**
 * The main step. `signalled` resolves on SIGINT or SIGTERM (index.ts): then
 * the docker children are stopped, the run's files removed, `status` set to
 * `cancelled` and 'cancelled' returned at once, the engine left where it is.
 */
export async function run(signalled: Promise<NodeJS.Signals> = never): Promise<'cancelled' | undefined> {
  // First, so that a post step after a main step killed at any point knows it is the post step.
  core.saveState(STATE.post, 'true')
  const leftovers = new RunLeftovers(
    paths => core.saveState(STATE.leftovers, JSON.stringify(paths)),
    items => core.saveState(STATE.swarm, JSON.stringify(items))
  )
  const reporter = actionsReporter()
  try {
    // Every input once. The secret ones then leave the environment, which
    // any library's child process would otherwise inherit.
    const raw = new Map(INPUTS.map(spec => [spec.name, core.getInput(spec.name)]))
    for (const name of SECRET_VARIABLES) delete process.env[name]
    const read = (name: string): string => raw.get(name) ?? ''
    // Mask first: nothing may print before every secret is registered.
    for (const { value } of secretsOf(read)) reporter.secret(value)
    if (wantsRefresh(read)) return await refreshAuth(read, leftovers, reporter, signalled)
    const inputs = getInputs(read, { env: process.env, isFile, readFile: file => readFileSync(file, 'utf8') })
    const host = processHost(process.env, process.env.RUNNER_TEMP, leftovers)
    // Kept here: after a cancel, what the run knew by then is still given as outputs.
    const sofar = emptyOutcome(host.now())
    const ended = await Promise.race([runDeploy(inputs, host, realAdapters, reporter, sofar), signalled])
    if (typeof ended === 'string') {
      await cancel(ended, leftovers, reporter, deployOutputs(sofar))
      return 'cancelled'
    }
    writeOutputs(reporter, deployOutputs(ended))
    await finish(ended, reporter)
  } catch (error) {
    fail(reporter, error instanceof Error ? error.message : String(error))
  }
  return undefined
}

/** The step's error, redacted and cleaned: it quotes text from outside (docker's stderr, Swarm's messages). */
function fail(reporter: ActionsReporter, message: string): void {
  core.setFailed(inertText(reporter.redact(message)))
}

/** refresh-registry-auth: true: the refresh instead of a deploy (src/refresh-auth.ts). */
async function refreshAuth(
  read: (name: string) => string,
  leftovers: RunLeftovers,
  reporter: ActionsReporter,
  signalled: Promise<NodeJS.Signals>
): Promise<'cancelled' | undefined> {
  const inputs = getRefreshInputs(read)
  const host = processHost(process.env, process.env.RUNNER_TEMP, leftovers)
  const sofar = emptyRefreshOutcome(inputs, host.now())
  const ended = await Promise.race([runRefreshAuth(inputs, host, realAdapters, reporter, sofar), signalled])
  if (typeof ended === 'string') {
    await cancel(ended, leftovers, reporter, refreshOutputs(sofar))
    return 'cancelled'
  }
  writeOutputs(reporter, refreshOutputs(ended))
  if (ended.target && process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(reporter.redact(renderRefreshSummary(ended))).write()
  if (ended.stopped) fail(reporter, ended.stopped.message)
  else if (ended.status !== 'refreshed') fail(reporter, `Stack ${ended.stack}: some services did not get the new registry credential`)
  return undefined
}

/** The outputs, each once: the engine returns them as data (src/report/outputs.ts). */
function writeOutputs(reporter: ActionsReporter, outputs: Outputs): void {
  for (const [name, value] of outputs) reporter.output(name, value)
}

async function cancel(signal: NodeJS.Signals, leftovers: RunLeftovers, reporter: ActionsReporter, known: Outputs): Promise<void> {
  reporter.warn(
    `Cancelled (${signal}): stopping the docker commands and removing this run's files. Swarm goes on with whatever reached it; nothing is rolled back.`
  )
  await leftovers.cleanUp()
  writeOutputs(reporter, [...known.filter(([name]) => name !== 'status'), ['status', 'cancelled']])
  core.setFailed(`The run was cancelled (${signal}) before it had a verdict`)
}

async function finish(outcome: Outcome, reporter: ActionsReporter): Promise<void> {
  // prune-images: its own section, after the deploy's (or the preview's).
  const pruned = outcome.pruned ? renderPruneSummary(outcome.pruned) : ''
  if (outcome.plan && !outcome.stopped) {
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(reporter.redact(renderPlanSummary(outcome.plan) + pruned)).write()
    return
  }
  if (outcome.report && process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(reporter.redact(renderSummary(outcome.report) + pruned)).write()
  if (outcome.stopped) fail(reporter, outcome.stopped.message)
  else if (outcome.status !== 'converged') fail(reporter, outcome.verdict?.summary ?? 'no verdict')
}

/**
 * The post step (`post-if: always()`): removes what a main step that was
 * killed outright recorded and could not remove (its work dir with the
 * registry login, compose copies). After a main step that ended, nothing is
 * left and it says so. Never fails the job.
 */
export async function post(): Promise<void> {
  try {
    const saved = core.getState(STATE.leftovers)
    const removed = removePaths(saved === '' ? [] : (JSON.parse(saved) as string[]))
    core.info(inertText(removed.length === 0 ? 'Nothing left to remove.' : `Removed what the main step left: ${removed.join(', ')}`))
  } catch (error) {
    core.warning(inertText(`Could not remove what the main step left: ${(error as Error).message}`))
  }
  await settleMainStep(core.getState(STATE.swarm))
}

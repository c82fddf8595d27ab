// The GitHub Action: read the inputs, run the engine with the runner's
// reporter, then set the outputs, the job summary and the step's result.
import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import { actionsReporter } from './action/reporter.js'
import { processHost, realAdapters } from './adapters.js'
import { runDeploy } from './engine.js'
import type { Outcome } from './engine.js'
import { isFile } from './files.js'
import { getInputs } from './inputs/inputs.js'
import { renderSummary } from './report/summary.js'
import { maskedParts, secretsOf } from './secrets.js'

export async function run(): Promise<void> {
  try {
    const reporter = actionsReporter()
    const read = (name: string): string => core.getInput(name)
    // Mask first: nothing may print before every secret is registered.
    for (const secret of secretsOf(read)) for (const part of maskedParts(secret)) reporter.secret(part)
    const inputs = getInputs(read, { env: process.env, isFile, readFile: file => readFileSync(file, 'utf8') })
    const outcome = await runDeploy(inputs, processHost(process.env, process.env.RUNNER_TEMP), realAdapters, reporter)
    await finish(outcome)
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error))
  }
}

async function finish(outcome: Outcome): Promise<void> {
  if (outcome.report && process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(renderSummary(outcome.report)).write()
  if (outcome.stopped) core.setFailed(outcome.stopped.message)
  else if (outcome.status !== 'converged') core.setFailed(outcome.verdict?.summary ?? 'no verdict')
}

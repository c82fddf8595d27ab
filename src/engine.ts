// The deploy use case, one function for every front end. It reads nothing
// from the process and prints nothing itself: the host, the adapters and the
// reporter are given, and the outcome is returned as data for the front end
// to show. It reads as its steps; each is a function you can open.
import { deployAndJudge } from './deploy/deploy-and-judge.js'
import type { DeployRun } from './deploy/deploy-and-judge.js'
import { needsDiagnostics, showDiagnostics } from './deploy/diagnostics.js'
import { finish } from './deploy/finish.js'
import { stageOrder } from './deploy/stages.js'
import { loginAndBuild } from './deploy/prepare.js'
import { chooseSource, readHistory } from './deploy/source.js'
import { githubDeployment } from './github/run-deployment.js'
import type { Deployment } from './github/deployments.js'
import { InputError } from './inputs/parse.js'
import type { Inputs } from './inputs/inputs.js'
import { smokeUrlSecrets } from './inputs/smoke-inputs.js'
import { deployLockRequest } from './lock/run.js'
import type { Outcome } from './outcome.js'
import { emptyOutcome } from './outcome.js'
import { timingPhases, UnreachableError } from './phases.js'
import type { ComposeFile, Plan } from './plan.js'
import { makePlan, PlanError, readComposeFiles, secretKeyOf } from './plan.js'
import { normaliseCompose } from './deploy/normalise.js'
import { userConfigDir } from './workdir.js'
import type { Adapters, Host, Reporter } from './ports.js'
import { previewStack } from './preview/preview.js'
import { previewPrune } from './prune-images/deploy-step.js'
import { previewRebalance, rebalanceAfterDeploy } from './rebalance/after-deploy.js'
import { plannedSteps, planStepsText } from './report/stages.js'
import type { DeploySource } from './release/rollback.js'
import { liveRelease, ReleaseError } from './release/select.js'
import type { Rounds } from './release/stack-rollback.js'
import { rollbackStack } from './release/stack-rollback.js'
import type { ReleaseHistory } from './release/store.js'
import { addConnectionSecrets, redactStrings, Secrets } from './secrets.js'
import type { Session } from './session.js'
import { withSession } from './session.js'
import { checkPlan } from './smoke/decide.js'
import { httpGet } from './smoke/http.js'

export type { Outcome } from './outcome.js'

/**
 * `outcome`: the front end's, when it must read what was known so far after
 * a cancel (the image pushed before it, for the outputs).
 */
export async function runDeploy(
  inputs: Inputs,
  host: Host,
  adapters: Adapters,
  reporter: Reporter,
  outcome: Outcome = emptyOutcome(host.now())
): Promise<Outcome> {
  const secrets = new Secrets(reporter)
  // Mask first: nothing may print before every secret is registered.
  addConnectionSecrets(secrets, inputs.target, inputs.registry)
  // A JSON env (`${{ toJSON(secrets) }}`) names secrets no compose file reads: none of those is named in a warning.
  for (const [name, value] of inputs.env) secrets.add(value, inputs.envJson ? undefined : `env ${name}`)
  for (const line of inputs.releaseKey) secrets.add(line, 'release-key')
  if (inputs.deployment) secrets.add(inputs.deployment.token, 'github-token')
  // A smoke URL's userinfo and query values (tokens); the body excerpt is redacted of them too.
  for (const { value, name } of inputs.smoke ? smokeUrlSecrets(inputs.smoke.urls.map(u => u.href).join('\n')) : []) secrets.add(value, name)
  try {
    const plan = makePlan(inputs, host, await normalise(inputs, host, adapters, reporter))
    if (inputs.envJson && !inputs.rollback) useEnvJson(plan, inputs.envJson, secrets, reporter)
    // What env-passthrough lets through to the compose files is as secret as env.
    for (const { name, value } of plan.passedSecrets) secrets.add(value, `env-passthrough ${name}`)
    // Never printed; hidden all the same, should any text ever carry one.
    for (const key of plan.releaseKeys.verify) secrets.add(key.toString('hex'))
    for (const warning of plan.warnings) reporter.warn(warning)
    await deploy(plan, host, adapters, timingPhases(reporter, host.now, outcome.startedAt, outcome.phases), secrets, outcome)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const kind =
      error instanceof PlanError || error instanceof InputError || error instanceof ReleaseError
        ? 'input'
        : error instanceof UnreachableError
          ? 'unreachable'
          : 'error'
    outcome.stopped = { kind, message }
  }
  return outcome
}

/** The compose files as docker stack deploy will read them, before anything else reads them (src/deploy/normalise.ts); a rollback reads its record. */
async function normalise(inputs: Inputs, host: Host, adapters: Adapters, reporter: Reporter): Promise<ComposeFile[] | undefined> {
  if (inputs.rollback) return undefined
  // No work dir yet: the merge reads files and writes none, with the user's own Docker config, where docker finds its plugins.
  const cli = adapters.dockerCli(userConfigDir(host.env), host, reporter)
  return normaliseCompose(readComposeFiles(inputs, host), { stack: inputs.stack, profiles: inputs.profiles ?? [], cli, files: host.files, reporter })
}

/** env as JSON: how many names it gave and how many the compose files read; only those are named, and a short one is warned about. */
function useEnvJson(plan: Plan, given: { given: number }, secrets: Secrets, reporter: Reporter): void {
  for (const name of plan.envUsed) secrets.add(plan.inputs.env.get(name)!, `env ${name}`)
  const used = plan.envUsed.length
  reporter.info(
    `env: ${given.given} ${given.given === 1 ? 'value' : 'values'} given as JSON, ${used} used by the compose files${used > 0 ? ` (${plan.envUsed.join(', ')})` : ''}; only those reach compose`
  )
}

/** session (login and build beside the connect) → source → preview, or deploy and judge → stack rollback → finish. */
async function deploy(plan: Plan, host: Host, adapters: Adapters, reporter: Reporter, secrets: Secrets, outcome: Outcome): Promise<void> {
  const { inputs } = plan
  const started = host.now()
  const deps = { host, adapters, reporter, redact: (text: string) => secrets.redact(text) }
  const login = (local: Parameters<typeof loginAndBuild>[1]) => loginAndBuild(plan, local, { ...deps, secrets, outcome })
  await withSession(inputs.target, deps, { login, lock: inputs.dryRun ? undefined : deployLockRequest(inputs) }, async session => {
    const known = await readHistory(plan, session.api, reporter)
    const source = await chooseSource(plan, known, { ...deps, api: session.api, secrets, outcome, workdir: session.workdir.root })
    const run = deployRun(plan, session, host, adapters, reporter, secrets, outcome)
    if (inputs.dryRun) return preview(run, source, known)
    const deployment = githubDeployment(inputs, host, adapters, reporter, secrets)
    const first = await firstRound(run, source, known, deployment)
    const rounds = await rollbackStack(run, first.rounds, first.release, known, session.workdir.root)
    await finish(run, { rounds, previous: liveRelease(known.releases), deployment, started })
    if (inputs.rebalance) await rebalanceAfterDeploy(run)
  })
}

function deployRun(plan: Plan, session: Session<void>, host: Host, adapters: Adapters, reporter: Reporter, secrets: Secrets, outcome: Outcome): DeployRun {
  const { cli, api, tunnel, clusterId } = session
  const deadline = host.now() + plan.rollout.timeoutMs
  const secretKey = secretKeyOf(plan.inputs.stack, clusterId)
  return { plan, cli, api, tunnel, host, reporter, secrets, outcome, deadline, secretKey, smokeGet: adapters.smokeGet ?? httpGet }
}

/** dry-run: what a deploy of the source would do, and nothing done. */
async function preview(run: DeployRun, source: DeploySource, known: ReleaseHistory): Promise<void> {
  const { plan, cli, api, host, reporter, secrets, outcome, secretKey } = run
  const { inputs } = plan
  const { stack, prune } = inputs
  const image = inputs.rollback ? undefined : inputs.image
  const hide = (name: string): void => secrets.add(name)
  const keepReplicas = inputs.keepReplicas === true
  const previewed = await reporter.phase('Preview', () =>
    previewStack({ stack, prune, source, image, secretKey, cli, api, host, reporter, hide, keepReplicas })
  )
  // Hooks and waves: the steps in the order the deploy would run them.
  const order = stageOrder(run, source)
  const planned = order ? { ...previewed, steps: plannedSteps(order, previewed) } : previewed
  for (const line of planStepsText(planned.steps ?? [])) reporter.info(line)
  outcome.plan = redactStrings(planned, text => secrets.redact(text))
  if (inputs.rebalance) await previewRebalance(run)
  // The inputs were checked all the same; what the check would do is said, and nothing is asked.
  if (inputs.smoke) reporter.info(`Dry run: no smoke check (nothing was deployed); a deploy would ${checkPlan(inputs.smoke)}`)
  await previewPrune(run, planned, known.releases)
}

/** The deploy of the source to a verdict, inside its GitHub Deployment, with the failed tasks shown if it failed. */
async function firstRound(
  run: DeployRun,
  source: DeploySource,
  known: ReleaseHistory,
  deployment: Deployment | undefined
): Promise<{ rounds: Rounds; release: Rounds['releases'][number] | undefined }> {
  const { plan, api, host, reporter, secrets } = run
  await deployment?.start(
    source.rollbackTo?.sha || host.env.GITHUB_SHA || host.env.GITHUB_REF || 'HEAD',
    source.rollbackTo ? `swarm-deploy ${plan.inputs.stack}: rollback to #${source.rollbackTo.number}` : `swarm-deploy ${plan.inputs.stack}`
  )
  const first = await deployAndJudge(run, source, known).catch(async (error: unknown) => {
    await deployment?.finish(false, (error as Error).message)
    throw error
  })
  const diagnoses = needsDiagnostics(first)
    ? await reporter.phase('Diagnostics', () => showDiagnostics(api, first.verdict, first.deployStarted, secrets, reporter, plan.inputs.stack))
    : []
  const releases = first.release ? [first.release, ...known.releases] : [...known.releases]
  const smokeChecks = first.smoke ? [{ title: 'Smoke check', result: first.smoke }] : []
  return { rounds: { verdict: first.verdict, releases, diagnoses, smokeChecks, ...(first.untouched ? { untouched: true } : {}) }, release: first.release }
}

// What a deploy does on the runner while the connection opens: the registry
// login and the image (built and pushed, or the pushed tag resolved to its
// digest). A preview reads no registry and builds nothing.
import { buildAndPush, readyBuilder } from '../build/image.js'
import type { Outcome } from '../outcome.js'
import { reaching, UnreachableError } from '../phases.js'
import type { Plan } from '../plan.js'
import type { Adapters, Host, Reporter } from '../ports.js'
import { previewImage } from '../preview/preview.js'
import { helperLogin, runCredentialHelper } from '../registry/credentials/credential-helper.js'
import { resolveExisting } from '../registry/existing.js'
import { shortLivedToken, shortLivedWarning, tokenExpiry } from '../registry/expiry.js'
import { login, resolveAuth } from '../registry/login.js'
import { RegistryUnreachable } from '../registry/manifest.js'
import type { Secrets } from '../secrets.js'
import type { Local } from '../session.js'

export interface PrepareDeps {
  host: Host
  adapters: Adapters
  reporter: Reporter
  secrets: Secrets
  outcome: Outcome
}

/** The login, then the image: what the outcome learns (the token's expiry, the pinned image) is kept in it as it is known. */
export async function loginAndBuild(plan: Plan, { workdir, cli }: Local, deps: PrepareDeps): Promise<void> {
  const { inputs } = plan
  const { host, adapters, reporter, secrets, outcome } = deps
  const building = inputs.image?.build && !inputs.dryRun && !inputs.rollback ? inputs.image : undefined
  // Before the login: a builder that cannot do what the inputs ask (a cache, several platforms) stops the run with nothing done.
  const builder = building ? await readyBuilder(cli, building, host.env) : undefined
  // A preview reads no registry: no login.
  // A credential helper that is missing or fails is an error of its own, not an unreachable registry.
  const stored = (registry: string) =>
    helperLogin(registry, {
      stores: workdir.credentialStores,
      env: host.env,
      run: adapters.credentialHelper ?? runCredentialHelper,
      log: reporter,
      hide: secret => secrets.add(secret)
    })
  const auth = inputs.dryRun ? undefined : await resolveAuth(inputs.registry, region => reaching(() => adapters.ecrToken(region)), stored)
  if (auth) {
    // An ECR token, a helper's secret: a password too.
    secrets.add(auth.password)
    await reporter.phase(`Log in to ${auth.registry}`, () => reaching(() => login(cli, workdir.dockerConfig, auth)))
    if (auth.expiresAt) {
      outcome.registryAuthExpires = auth.expiresAt.toISOString()
      reporter.info(tokenExpiry(auth.registry, auth.expiresAt, host.now()))
    }
    const shortLived = shortLivedToken(auth, host.env)
    if (shortLived) reporter.warn(shortLivedWarning(auth.registry, shortLived))
  }

  if (inputs.image && inputs.dryRun && !inputs.rollback)
    reporter.info(`Dry run: nothing is built or pushed; IMAGE stands for ${previewImage(inputs.image)}${inputs.image.build ? ' (to be built)' : ''}`)
  else if (inputs.image && inputs.rollback) reporter.warn(`image: ignored during a rollback, which deploys the recorded images; nothing is built`)
  else if (inputs.image) {
    const build = inputs.image
    // build: false resolves the tag already pushed; either way a digest, never a tag alone.
    const image = builder
      ? await reporter.phase(`Build and push ${build.repository}`, () => buildAndPush(cli, build, builder, { env: host.env, reporter }))
      : await reporter.phase(`Resolve ${build.repository}:${build.tags[0]}`, () =>
          resolveExisting(cli, workdir.dockerConfig, build, auth, { reporter, fetch: adapters.registryFetch }).catch((error: unknown) => {
            throw error instanceof RegistryUnreachable ? new UnreachableError(error.message) : error
          })
        )
    outcome.image = image
    reporter.info(`${build.build ? 'Pushed' : 'Deploying'} ${image.pinned}`)
  }
}

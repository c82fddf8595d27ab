// The one normalisation step, before anything reads the compose files (the
// variable checks, the secret rewrite, the preview, the release record, the
// deploy). Files that use only what `docker stack deploy` reads go on as
// they are, with or without the Compose plugin; files that use include:,
// extends:, profiles: or name: are merged by the plugin into one text that
// keeps every `${VAR}` (compose-spec.ts), or stop here, before any side
// effect, saying what to install. The text is held in memory: it is written
// to the run's work dir only once the session has one (writeMerged).
import * as path from 'node:path'
import type { ComposeFeature } from './compose-spec.js'
import { composeConfigArgs, composeOnlyFeatures, projectNameOf, stackForm } from './compose-spec.js'
import type { ComposeFile } from '../plan.js'
import { PlanError } from '../plan.js'
import type { DockerCli, Host, Reporter } from '../ports.js'

// The merge reads a few local files; the bound only keeps a hung plugin from holding the job.
const COMPOSE_TIMEOUT_MS = 60_000

export interface NormaliseOptions {
  stack: string
  profiles: readonly string[]
  cli: DockerCli
  files: Pick<Host['files'], 'read'>
  reporter: Pick<Reporter, 'info' | 'warn'>
}

/** The compose files as `docker stack deploy` will read them: the given ones, or one merged text. */
export async function normaliseCompose(compose: ComposeFile[], options: NormaliseOptions): Promise<ComposeFile[]> {
  const { profiles, cli, reporter } = options
  const features = composeOnlyFeatures(compose)
  if (features.length === 0) {
    if (profiles.length > 0) reporter.warn(`profiles: no service of the compose files has profiles:, so ${profiles.join(', ')} changes nothing`)
    return compose
  }
  const version = await cli.run(['compose', 'version', '--short'], { silent: true, timeoutMs: COMPOSE_TIMEOUT_MS })
  if (version.code !== 0 || version.timedOut) throw new PlanError(noPluginMessage(features))
  const files = compose.map(file => file.path)
  const merged = await cli.run(composeConfigArgs(files, projectNameOf(options.stack)), { silent: true, timeoutMs: COMPOSE_TIMEOUT_MS })
  if (merged.code !== 0 || merged.timedOut) {
    const why = merged.timedOut ? `it did not finish within ${COMPOSE_TIMEOUT_MS / 1000} s` : merged.stderr.trim().split('\n').slice(-5).join('\n')
    throw new PlanError(`compose-file: docker compose could not merge ${files.join(', ')}: ${why}\nNothing was deployed.`)
  }
  let form
  try {
    form = stackForm(merged.stdout, profiles, file => options.files.read(file) !== undefined)
  } catch (error) {
    throw new PlanError(`compose-file: ${(error as Error).message}\nNothing was deployed.`)
  }
  const kinds = [...new Set(features.map(f => f.what.split(' ')[0]))].join(', ')
  reporter.info(`Compose files merged by docker compose ${version.stdout.trim()} (${kinds}): services ${form.services.join(', ') || 'none'}`)
  if (form.leftOut.length > 0) reporter.info(`Not deployed, no profile of theirs enabled (the profiles input): ${form.leftOut.join(', ')}`)
  return [{ path: mergedLabel(files[0]!), text: form.text, merged: true }]
}

/** What the merged text is called in messages, until it is written: line numbers are those of `docker compose config`'s output. */
export function mergedLabel(first: string): string {
  return `${first} (merged by docker compose)`
}

export function noPluginMessage(features: readonly ComposeFeature[]): string {
  const where = features
    .slice(0, 3)
    .map(f => `${f.what} in ${f.file} line ${f.line}`)
    .join(', ')
  const more = features.length > 3 ? ` and ${features.length - 3} more` : ''
  return [
    `compose-file: ${where}${more}: only docker compose reads this, and the runner's docker has no Compose plugin (docker compose version failed).`,
    "Install it on the runner (GitHub's hosted runners have it; elsewhere Docker's docker-compose-plugin package or Debian's docker-compose, as /usr/libexec/docker/cli-plugins/docker-compose), or write the files without these keys. Nothing was deployed."
  ].join('\n')
}

/**
 * The merged text as a file in the run's work dir, where the deploy and the
 * preview read it (its paths are absolute, so it need not sit beside the
 * originals); files that were not merged are returned as they are.
 */
export async function writeMerged(compose: ComposeFile[], workdir: string, files: Pick<Host['files'], 'write'>): Promise<ComposeFile[]> {
  if (!compose.some(file => file.merged)) return compose
  return Promise.all(
    compose.map(async (file, i) => {
      if (!file.merged) return file
      const written = path.join(workdir, `merged-compose-${i}.yaml`)
      await files.write(written, file.text)
      return { path: written, text: file.text }
    })
  )
}

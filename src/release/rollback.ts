// What a deploy records, and what a rollback deploys: the recorded compose
// text with the recorded digests, through the same deploy and watch as any
// other deploy. Values still come from the current env; none is recorded.
import * as path from 'node:path'
import type { RenderContext } from '../deploy/stack-objects.js'
import { renderStackObjects } from '../deploy/stack-objects.js'
import { composeVariableProblems } from '../deploy/stack-deploy.js'
import type { Host } from '../ports.js'
import type { Release } from './record.js'
import { externalized, HIDDEN, objectsOf, pinnedImages, variablesOf } from './record.js'
import { recordedComposeProblems } from './compose-check.js'
import { ReleaseError } from './select.js'

export interface DeploySource {
  compose: Array<{ path: string; text: string }>
  composeFiles: string[]
  variables: Map<string, string>
  /** The release put back, for a rollback. */
  rollbackTo: Release | undefined
}

/** The compose files as recorded: every secret and config version named and external, `${VAR}` left as written. */
export function recordedCompose(
  compose: Array<{ path: string; text: string }>,
  context: RenderContext
): { compose: Array<{ path: string; text: string }>; variables: string[] } {
  const rendered = renderStackObjects(compose, context)
  const files = compose.map((file, i) => ({ path: file.path, text: externalized(rendered.files[i]?.text ?? file.text) }))
  return { compose: files, variables: variablesOf(files) }
}

/**
 * The files a rollback deploys, written into the run's scratch folder. Every
 * check comes first, so a rollback that cannot be done changes nothing. The
 * docker child gets only the variables the release read (and IMAGE), so the
 * recorded text can reach no other value of the run.
 */
export async function rollbackSource(
  target: Release,
  values: ReadonlyMap<string, string>,
  existing: ReadonlySet<string>,
  dir: string,
  files: Host['files']
): Promise<DeploySource> {
  const read = new Set(target.variables)
  const variables = new Map([...values].filter(([name]) => read.has(name)))
  if (target.image !== undefined && !target.image.includes(HIDDEN)) variables.set('IMAGE', target.image)
  const compose = target.compose.map(f => ({ path: f.path, text: pinnedImages(f.text, target.stack, target.services) }))
  const unsafe = recordedComposeProblems(compose, target)
  if (unsafe.length > 0) {
    throw new ReleaseError(
      `rollback to #${target.number}: the recorded compose files ask for what the release did not do:\n${unsafe.map(line => `  ${line}`).join('\n')}\nNothing was changed.`
    )
  }
  const problems = composeVariableProblems(compose, variables)
  if (problems.length > 0) {
    throw new ReleaseError(
      `rollback to #${target.number}: the recorded compose files need variables the env input does not give:\n${problems.join('\n')}\nNothing was changed.`
    )
  }
  const missing = objectsOf(target).filter(name => !existing.has(name))
  if (missing.length > 0) {
    throw new ReleaseError(
      `rollback to #${target.number}: its secret and config versions ${missing.join(', ')} were removed from the swarm. Nothing was changed.`
    )
  }
  const hidden = target.services.filter(s => s.image.includes(HIDDEN)).map(s => s.name)
  if (hidden.length > 0) {
    throw new ReleaseError(
      `rollback to #${target.number}: the images of ${hidden.join(', ')} were not recorded (their names held an env value). Nothing was changed.`
    )
  }
  const composeFiles: string[] = []
  for (const [i, file] of compose.entries()) {
    const written = path.join(dir, `release-${target.number}-${i}-${path.basename(file.path)}`)
    await files.write(written, file.text)
    composeFiles.push(written)
  }
  return { compose: compose.map((f, i) => ({ path: composeFiles[i]!, text: f.text })), composeFiles, variables, rollbackTo: target }
}

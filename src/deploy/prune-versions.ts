// After a converged deploy: the secret and config versions nothing uses any more.
import { stackServices } from '../converge/spec.js'
import type { Reporter, SwarmApi } from '../ports.js'
import { isReleaseName } from '../release/record.js'
import { HASH_CHARS, isVersionOf, namesInUse } from './stack-objects.js'

/**
 * After a successful deploy only: versions that neither the current specs,
 * the specs kept for Swarm's rollback, nor a kept release use. After a failure nothing is removed, so
 * Swarm (or a person) can still roll back.
 */
export async function pruneVersions(api: SwarmApi, stack: string, reporter: Reporter, keep: ReadonlySet<string> = new Set()): Promise<void> {
  // Every service of the stack as it is now: the watcher stopped polling those it had decided.
  const inUse = namesInUse(stackServices(await api.snapshot(stack), stack))
  // A kept release can be rolled back to only while its versions exist.
  for (const name of keep) inUse.add(name)
  const unused = (await api.listObjects(stack)).filter(o => isVersionOf(stack, o.name) && !isReleaseName(stack, o.name) && !inUse.has(o.name))
  for (const object of unused) {
    // Secret versions are named by their key only: the versioned name is never logged.
    const what =
      object.kind === 'secret' ? `an unused version of secret ${object.name.slice(stack.length + 1, -(HASH_CHARS + 1))}` : `${object.kind} ${object.name}`
    try {
      await api.removeObject(object.kind, object.id)
      reporter.info(`Removed ${what}`)
    } catch (error) {
      // The deploy converged; a version something else still holds is no reason to fail it.
      reporter.warn(`Could not remove ${what}: ${(error as Error).message.split(object.name).join('(its version)')}`)
    }
  }
  if (unused.length === 0) reporter.info('Nothing to remove.')
}

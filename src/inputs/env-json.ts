// `env: ${{ toJSON(secrets) }}`, as users of other swarm actions pass every
// secret of the repository at once. Every string value is a secret; only
// the names the compose files read reach compose (the deploy's child gets
// only those: deployVariables), and the log says how many were given and
// how many used, never the others' names.
import { ENV_KEY, InputError, steeringName } from './parse.js'

export interface EnvJson {
  /** The names that may reach compose, with their values. */
  values: Map<string, string>
  /** How many names the object had. */
  given: number
}

/** The `env` text read as a JSON object, or undefined when it is KEY=VALUE lines (it does not start with `{`). */
export function readEnvJson(raw: string): EnvJson | undefined {
  const text = raw.trim()
  if (!text.startsWith('{')) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // JSON.parse's message quotes the text: it is not passed on.
    throw new InputError('env', 'starts with { but is not a JSON object: give KEY=VALUE lines, or an object like ${{ toJSON(secrets) }}')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError('env', 'starts with { but is not a JSON object: give KEY=VALUE lines, or an object like ${{ toJSON(secrets) }}')
  }
  const entries = Object.entries(parsed as Record<string, unknown>)
  // A name no compose file can read, or one that would steer the docker CLI, is left out: most of the object is never used.
  const values = new Map(
    entries.filter((entry): entry is [string, string] => typeof entry[1] === 'string' && ENV_KEY.test(entry[0]) && steeringName(entry[0]) === undefined)
  )
  return { values, given: entries.length }
}

/**
 * Every string value of a JSON `env`, to be masked before anything parses it
 * further ([] for KEY=VALUE lines). Text that starts like JSON but does not
 * parse gives every quoted string in it: it is refused later, and nothing of
 * it may print meanwhile.
 */
export function envJsonValues(raw: string): string[] {
  if (!raw.trim().startsWith('{')) return []
  try {
    const parsed: unknown = JSON.parse(raw)
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return []
    return Object.values(parsed as Record<string, unknown>).filter((value): value is string => typeof value === 'string')
  } catch {
    return [...raw.matchAll(/"((?:[^"\\\n]|\\.)*)"/g)].map(match => match[1]!)
  }
}

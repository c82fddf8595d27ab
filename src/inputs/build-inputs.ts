// The inputs that say how the image comes to be: built here (with BuildKit
// where the runner has buildx) or taken as it is from the registry.
import { InputError, readBoolean } from './parse.js'

/** `auto`: the Actions cache where the runner exposes one, else a registry cache beside the image. */
export type BuildCache = { kind: 'auto'; actionsCache: boolean } | { kind: 'off' } | { kind: 'given'; value: string }

export interface BuildOptions {
  /** false: no build; the first tag is deployed as the registry has it. */
  build: boolean
  cache: BuildCache
  /** For `docker buildx build --platform`; empty: the builder's own. */
  platforms: string[]
}

export type ReadInput = (name: string) => string

export function readBuildOptions(read: ReadInput, env: Record<string, string | undefined>): BuildOptions {
  const build = readBoolean(read, 'build')
  const cache = parseCache('cache', read('cache'), Boolean(env.ACTIONS_CACHE_URL || env.ACTIONS_RESULTS_URL))
  const platforms = parsePlatforms('platforms', read('platforms'))
  if (!build) {
    for (const name of ['build-args', 'cache', 'platforms']) {
      if (read(name).trim() !== '') throw new InputError(name, 'is set but build is false: nothing is built')
    }
  }
  return { build, cache, platforms }
}

/** `''` → auto, `false` → off, anything else is a BuildKit cache spec such as `type=gha` or `type=registry,ref=…`. */
export function parseCache(input: string, raw: string, actionsCache: boolean): BuildCache {
  const text = raw.trim()
  if (text === '' || text === 'true') return { kind: 'auto', actionsCache }
  if (text === 'false') return { kind: 'off' }
  if (/\s/.test(text)) {
    throw new InputError(
      input,
      'is not one BuildKit cache like type=gha or type=registry,ref=registry.example.com/app:cache,mode=max (no spaces or line breaks), or false'
    )
  }
  return { kind: 'given', value: text }
}

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/

/** `linux/amd64,linux/arm64/v8`, separated by commas or newlines. */
export function parsePlatforms(input: string, raw: string): string[] {
  const platforms = raw.split(/[\s,]+/).filter(Boolean)
  for (const platform of platforms) {
    if (!PLATFORM.test(platform)) throw new InputError(input, `'${platform}' is not a platform like linux/amd64 or linux/arm64/v8`)
  }
  return [...new Set(platforms)]
}

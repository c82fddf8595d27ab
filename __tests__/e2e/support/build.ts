// What the BuildKit e2e test needs of the lab's engines: whether the docker
// CLI has buildx against an engine and which image store that engine has
// (read at load time: jest decides what to skip before any hook runs), the
// steps a BuildKit log reports, and a runner that has forgotten its builds,
// as a fresh CI runner has.
import { execFileSync } from 'node:child_process'
import { appendFileSync, cpSync, mkdtempSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Lab } from '../harness.js'
import { APP } from '../harness.js'

export type Availability = { ok: true } | { ok: false; reason: string }

function dockerAt(host: string, args: string[]): string {
  return execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function firstLine(error: unknown): string {
  const stderr = String((error as { stderr?: Buffer | string }).stderr ?? '')
    .trim()
    .split('\n')[0]
  return stderr || (error as Error).message
}

/** `docker buildx version` against that engine: the plugin is the CLI's, found in its plugin folders. */
export function buildxAt(host: string): Availability {
  try {
    dockerAt(host, ['buildx', 'version'])
    return { ok: true }
  } catch (error) {
    return { ok: false, reason: `'docker buildx version' failed (${firstLine(error)})` }
  }
}

/** 'containerd' where the engine's DriverStatus has driver-type io.containerd.snapshotter.v1. */
export function imageStoreAt(host: string): 'containerd' | 'classic' | 'unknown' {
  try {
    const status = dockerAt(host, ['info', '--format', '{{json .DriverStatus}}'])
    return status.includes('io.containerd.snapshotter.v1') ? 'containerd' : 'classic'
  } catch {
    return 'unknown'
  }
}

export interface BuildStep {
  /** BuildKit's vertex name, e.g. `[3/3] RUN echo "version 1" > /www/version.txt`. */
  name: string
  cached: boolean
}

/** The Dockerfile steps of BuildKit's plain progress (`#8 [3/3] RUN …` … `#8 CACHED`). */
export function buildSteps(log: string): BuildStep[] {
  const steps = new Map<string, BuildStep>()
  for (const line of log.split('\n')) {
    const step = /^#(\d+) (\[(?:[\w-]+ )?\d+\/\d+\] .+)$/.exec(line.trim())
    // A step's header comes again when BuildKit goes back to it (to pull a cached layer it needs): still the one step.
    if (step && !steps.has(step[1]!)) steps.set(step[1]!, { name: step[2]!, cached: false })
    const cached = /^#(\d+) CACHED$/.exec(line.trim())
    const known = cached ? steps.get(cached[1]!) : undefined
    if (known) known.cached = true
  }
  return [...steps.values()]
}

/**
 * The runner's engine without this run's images and with no build cache:
 * what a new CI runner has. The next build can only take its steps from the
 * registry's cache. (The runner is shared: other files' builds lose their
 * local cache too, which makes them slower, never wrong.)
 */
export function forgetBuilds(lab: Lab, images: string[]): void {
  for (const image of images) {
    try {
      dockerAt(lab.runnerDockerHost, ['image', 'rm', '--force', image])
    } catch {
      // not there: nothing to forget
    }
  }
  dockerAt(lab.runnerDockerHost, ['buildx', 'prune', '--all', '--force'])
}

/**
 * A copy of the sample app whose stack network has a subnet of its own
 * (10.202.<n>.0/24, outside the swarm's default pool): engine 28 can give a
 * new stack's network the subnet of another file's stack network still being
 * removed (moby#48069), and this test is about the build, not that.
 */
export function appWithOwnSubnet(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-build-'))
  cpSync(APP, dir, { recursive: true })
  const subnet = `10.202.${Math.floor(Math.random() * 256)}.0/24`
  appendFileSync(path.join(dir, 'docker-compose.yml'), `networks:\n  default:\n    ipam:\n      config:\n        - subnet: ${subnet}\n`)
  return dir
}

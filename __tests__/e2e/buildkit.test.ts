// The builder the runner's docker offers. The lab's runner has no buildx
// (Debian bookworm ships none), so there the classic path is tested: a
// `platforms` input is an error before anything is built, and a `cache`
// input gives one warning. The BuildKit deploy runs only where
// `docker buildx version` works against the runner's engine.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import type { ActionRun } from './harness.js'
import { expectVerdict, inspectService, loadLab, registryDigest, removeStack, runAction, sshInputs, stackExists } from './harness.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
const CLASSIC = `e2e-classic-${run}`
const BUILDKIT = `e2e-buildkit-${run}`

// Read at load time: jest decides what to skip before any hook runs.
const lab = loadLab()
const buildx = ((): { ok: true } | { ok: false; reason: string } => {
  try {
    execFileSync('docker', ['buildx', 'version'], { env: { ...process.env, DOCKER_HOST: lab.runnerDockerHost }, stdio: ['ignore', 'pipe', 'pipe'] })
    return { ok: true }
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '')
      .trim()
      .split('\n')[0]
    return { ok: false, reason: `'docker buildx version' failed on the runner (${stderr || (error as Error).message})` }
  }
})()
if (!buildx.ok) console.log(`BuildKit e2e test skipped: ${buildx.reason}. The classic-builder tests run instead.`)

let registry: Record<string, string>

beforeAll(() => {
  registry = { 'registry-username': lab.registryUser, 'registry-password': lab.registryPassword }
})

afterAll(async () => {
  await removeStack(lab, CLASSIC)
  await removeStack(lab, BUILDKIT)
})

function appInputs(stack: string, tag: string, extra: Record<string, string>): Record<string, string> {
  return { ...sshInputs(lab), ...registry, stack, image: `${lab.registry}/e2e/buildkit-${run}`, tags: tag, env: 'DB_PASSWORD=unused', timeout: '3m', ...extra }
}

function warnings(result: ActionRun): string[] {
  return result.stdout.split('\n').filter(line => line.startsWith('::warning::'))
}

describe('the classic builder, where the runner has no buildx', () => {
  const classic = buildx.ok ? it.skip : it

  classic('refuses platforms before anything is built or deployed', async () => {
    const result = await runAction(lab, appInputs(CLASSIC, `plat-${run}`, { platforms: 'linux/amd64,linux/arm64' }))
    expect(result.code).not.toBe(0)
    expect(result.log).toMatch(
      /::error::platforms: the runner's docker has no buildx plugin \('docker buildx version' failed\), and the classic builder builds for the runner's platform only: install buildx \(docker\/setup-buildx-action\) or remove platforms\. Nothing was built\./
    )
    expect(result.log).not.toMatch(/\[command\]docker (build|push)/)
    expect(result.outputs.status).toBeUndefined()
    expect(stackExists(lab, CLASSIC)).toBe(false)
    expect(result.seconds).toBeLessThan(10)
  })

  classic('builds with a cache input set: one warning, then the classic build, push and deploy', async () => {
    const result = await runAction(
      lab,
      appInputs(CLASSIC, `cache-${run}`, { cache: `type=registry,ref=${lab.registry}/e2e/buildkit-${run}:buildcache,mode=max` })
    )
    expectVerdict(result, 0, 'converged')
    expect(warnings(result).filter(w => w.includes('cache'))).toEqual([
      "::warning::cache: the runner's docker has no buildx plugin, so the classic builder runs and the cache input is not used"
    ])
    expect(result.log).toContain('[command]docker build --file')
    expect(result.log).toContain(`[command]docker push ${lab.registry}/e2e/buildkit-${run}:cache-${run}`)
    expect(inspectService(lab, `${CLASSIC}_web`).Spec.TaskTemplate.ContainerSpec.Image).toBe(result.outputs.image)
    expect(result.outputs.digest).toBe(await registryDigest(lab, `e2e/buildkit-${run}`, `cache-${run}`))
  })
})

describe('BuildKit, where the runner has buildx', () => {
  const buildkit = buildx.ok ? it : it.skip

  // cache: false keeps the test to what every builder can do against the lab's plain-http registry.
  buildkit('builds and pushes with docker buildx build --push, and deploys the digest BuildKit reports', async () => {
    const result = await runAction(lab, appInputs(BUILDKIT, `bk-${run}`, { cache: 'false', platforms: 'linux/amd64' }))
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain('[command]docker buildx build --push --metadata-file')
    expect(result.log).not.toContain('[command]docker push')
    expect(result.outputs.digest).toBe(await registryDigest(lab, `e2e/buildkit-${run}`, `bk-${run}`))
    expect(inspectService(lab, `${BUILDKIT}_web`).Spec.TaskTemplate.ContainerSpec.Image).toBe(
      `${lab.registry}/e2e/buildkit-${run}:bk-${run}@${result.outputs.digest}`
    )
  })
})

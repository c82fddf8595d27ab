// The builder the runner's docker offers. On engine 28 the lab's runner is
// GitHub's: the buildx plugin in a system plugin folder and the containerd
// image store, so BuildKit builds, pushes and keeps its cache in the lab
// registry. On engine 20.10 the runner has no buildx, so the classic path is
// tested there: a `platforms` input is an error before anything is built,
// and a `cache` input gives one warning. Each describe runs where its
// builder exists and says why it is skipped elsewhere.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import type { ActionRun } from './harness.js'
import { expectVerdict, inspectService, loadLab, phaseGroups, registryDigest, registryTags, removeStack, runAction, sshInputs, stackExists } from './harness.js'
import { appWithOwnSubnet, buildSteps, buildxAt, forgetBuilds, imageStoreAt } from './support/build.js'

jest.setTimeout(240_000)

const run = Date.now().toString(36)
const CLASSIC = `e2e-classic-${run}`
const BUILDKIT = `e2e-buildkit-${run}`
const CACHED = `e2e-bkcache-${run}`
const REFUSED = `e2e-bkrefused-${run}`

// Read at load time: jest decides what to skip before any hook runs.
const lab = loadLab()
const buildx = buildxAt(lab.runnerDockerHost)
const runnerStore = buildx.ok ? imageStoreAt(lab.runnerDockerHost) : 'unknown'
// The manager's engine 28 keeps the classic image store: a real engine whose docker driver cannot export a cache.
const managerStore = buildx.ok ? imageStoreAt(lab.managerDockerHost) : 'unknown'
if (!buildx.ok) console.log(`BuildKit e2e tests skipped: ${buildx.reason} on the runner. The classic-builder tests run instead.`)
else if (runnerStore !== 'containerd') console.log(`BuildKit cache e2e test skipped: the runner's engine has the ${runnerStore} image store, not containerd's.`)

let registry: Record<string, string>

beforeAll(() => {
  registry = { 'registry-username': lab.registryUser, 'registry-password': lab.registryPassword }
})

afterAll(async () => {
  await removeStack(lab, CLASSIC)
  await removeStack(lab, BUILDKIT)
  await removeStack(lab, CACHED)
  await removeStack(lab, REFUSED)
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
    const result = await runAction(lab, appInputs(BUILDKIT, `bk-${run}`, { cache: 'false', platforms: 'linux/amd64' }), { cwd: appWithOwnSubnet() })
    expectVerdict(result, 0, 'converged')
    expect(result.log).toContain('[command]docker buildx build --push --metadata-file')
    expect(result.log).not.toContain('[command]docker push')
    expect(result.outputs.digest).toBe(await registryDigest(lab, `e2e/buildkit-${run}`, `bk-${run}`))
    expect(inspectService(lab, `${BUILDKIT}_web`).Spec.TaskTemplate.ContainerSpec.Image).toBe(
      `${lab.registry}/e2e/buildkit-${run}:bk-${run}@${result.outputs.digest}`
    )
  })
})

describe('the BuildKit cache, where the runner has buildx on the containerd image store', () => {
  const cached = buildx.ok && runnerStore === 'containerd' ? it : it.skip
  const repository = `e2e/bkcache-${run}`
  const image = `${lab.registry}/${repository}`

  cached('exports the default cache to the registry, and a second deploy of the unchanged Dockerfile takes its steps from it', async () => {
    // VERSION makes the RUN step new to every cache the lab has seen.
    const inputs = (tag: string) => ({ ...appInputs(CACHED, tag, { 'build-args': `VERSION=${run}` }), image })
    const cwd = appWithOwnSubnet()
    const first = await runAction(lab, inputs(`c1-${run}`), { cwd })
    expectVerdict(first, 0, 'converged')
    expect(first.log).toContain(`Build cache: ${image}:buildcache in the registry`)
    expect(first.log).toContain(`--cache-from type=registry,ref=${image}:buildcache --cache-to type=registry,ref=${image}:buildcache,mode=max`)
    // BuildKit names the step with the build-arg's value.
    expect(buildSteps(first.log).find(step => step.name.includes(`RUN echo "version ${run}"`))).toMatchObject({ cached: false })
    expect(await registryTags(lab, repository)).toEqual(expect.arrayContaining([`c1-${run}`, 'buildcache']))

    // A fresh runner: the next build finds nothing of the first on the engine.
    forgetBuilds(lab, [`${image}:c1-${run}`])
    const second = await runAction(lab, inputs(`c2-${run}`), { cwd })
    expectVerdict(second, 0, 'converged')
    expect(second.log).toContain(`importing cache manifest from ${image}:buildcache`)
    // The same image: every layer came from the registry's cache. A RUN step
    // that runs again writes its file with a new time, so a new layer and a
    // new digest (checked: two --no-cache builds of this Dockerfile differ).
    // BuildKit's progress is no proof: a step it takes lazily from a registry
    // cache is sometimes shown without `CACHED`, only by the layer it fetches
    // (2 runs of 3 on engine 28.5, buildx 0.29; see lab/README).
    expect(second.outputs.digest).toBe(first.outputs.digest)
    expect(second.outputs.digest).toBe(await registryDigest(lab, repository, `c2-${run}`))
    expect(inspectService(lab, `${CACHED}_web`).Spec.TaskTemplate.ContainerSpec.Image).toBe(`${image}:c2-${run}@${second.outputs.digest}`)
  })
})

describe('a cache the builder cannot export', () => {
  const refuse = buildx.ok && managerStore === 'classic' ? it : it.skip

  // The manager's engine stands in for a runner on the classic store; nothing is built there.
  refuse('is refused before the login, the build or the deploy, in the words buildx would use', async () => {
    const ref = `${lab.registry}/e2e/buildkit-${run}:refusedcache`
    const result = await runAction(lab, appInputs(REFUSED, `refused-${run}`, { cache: `type=registry,ref=${ref},mode=max` }), {
      env: { DOCKER_HOST: lab.managerDockerHost }
    })
    expect(result.code).not.toBe(0)
    expect(phaseGroups(result).filter(title => /^(Log in|Build)/.test(title))).toEqual([])
    expect(result.log).toContain(
      "::error::cache: the builder (buildx's docker driver on the classic image store) cannot export a build cache: turn on the containerd image store on the runner's engine"
    )
    expect(result.log).not.toMatch(/\[command\]docker (login|buildx build|build|push)/)
    expect(result.outputs.status).toBeUndefined()
    expect(stackExists(lab, REFUSED)).toBe(false)
    expect(await registryTags(lab, `e2e/buildkit-${run}`)).not.toContain(`refused-${run}`)
  })
})

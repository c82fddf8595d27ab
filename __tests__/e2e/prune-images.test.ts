// prune-images on the lab (docs/prune-images.md): after each converged deploy
// the images of the stack's repository that nothing needs go from every node,
// while the previous spec's and the kept releases' stay, so a rollback starts
// without pulling; a drained node is skipped and keeps its images; a preview
// lists exactly what the real run then removes. It drains the worker: it runs
// alone (scripts/e2e.mjs SERIAL) and puts the worker back in afterAll.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { PruneReport } from '../../src/prune-images/prune.js'
import type { ActionRun, Lab } from './harness.js'
import {
  docker,
  expectVerdict,
  inspectService,
  loadLab,
  pushImage,
  registryDigest,
  removeStack,
  runAction,
  runCli,
  runningNodes,
  sshFlags,
  sshInputs
} from './harness.js'
import {
  buildUnusedImage,
  ensureJobImage,
  holds,
  imageBlobs,
  JOB_IMAGE,
  NODE_SOCKET,
  nodeImages,
  pullOnNode,
  registryLogMark,
  registryRequestsSince,
  setAvailability,
  waitNoTasksOn
} from './support/prune.js'

jest.setTimeout(900_000)

const run = Date.now().toString(36)
const STACK = `prune-${run}`
const NAME = `prune-${run}/app`
const OTHER = `prune-other-${run}:unused`
const VERSIONS = ['v1', 'v2', 'v3', 'v4'] as const

let lab: Lab
let repository = ''
let workspace = ''
const digest: Record<string, string> = {}
const hosts = (): Array<[string, string]> => [
  [lab.managerNode, lab.managerDockerHost],
  [lab.workerNode, lab.workerDockerHost]
]

beforeAll(async () => {
  lab = loadLab()
  ensureJobImage()
  repository = `${lab.registry}/${NAME}`
  for (const version of VERSIONS) {
    pushImage(lab, `${repository}:${version}`, [`FROM ${lab.baseImage}`, `RUN echo ${run}-${version} > /version`])
    digest[version] = (await registryDigest(lab, NAME, version))!
  }
  for (const [, host] of hosts()) buildUnusedImage(lab, host, OTHER)
  workspace = mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-prune-'))
  writeFileSync(
    path.join(workspace, 'docker-compose.yml'),
    [
      'version: "3.8"',
      'services:',
      '  app:',
      '    image: ${IMAGE}',
      '    command: ["sleep", "100000"]',
      '    init: true',
      '    stop_grace_period: 1s',
      '    deploy:',
      '      replicas: ${REPLICAS}',
      '      placement:',
      '        max_replicas_per_node: 1',
      ''
    ].join('\n')
  )
})

afterAll(async () => {
  setAvailability(lab, lab.workerNode, 'active')
  await removeStack(lab, STACK)
  for (const [, host] of hosts()) {
    const ours = nodeImages(lab, host).filter(i => i.tags.includes(OTHER) || i.digests.some(d => d.startsWith(`${repository}@`)))
    for (const image of ours) {
      try {
        docker(lab, ['image', 'rm', '--force', image.id], host)
      } catch {
        // a container of the removed stack may still hold it for a moment: the lab is rebuilt often enough
      }
    }
  }
  if (workspace) rmSync(workspace, { recursive: true, force: true })
})

function inputs(tag: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...sshInputs(lab),
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    stack: STACK,
    image: repository,
    tags: tag,
    build: 'false',
    env: 'REPLICAS=2',
    timeout: '2m',
    'keep-releases': '2',
    'prune-images': 'true',
    'prune-image': JOB_IMAGE,
    'prune-docker-socket': NODE_SOCKET,
    ...extra
  }
}

const pruned = (result: ActionRun): PruneReport => JSON.parse(result.outputs.pruned ?? 'null') as PruneReport

/** Per node (hostname), the image IDs a report removed (or, previewed, would). */
const removedBy = (report: PruneReport, node: string): string[] => (report.nodes.find(n => n.hostname === node)?.removed.map(i => i.id) ?? []).sort()

const imageId = (host: string, version: string): string | undefined =>
  nodeImages(lab, host).find(i => i.digests.includes(`${repository}@${digest[version]}`))?.id

describe('prune-images on the lab', () => {
  it('keeps v3 (previous spec, kept release) and v4 on each node, removes v1 and v2, leaves another repository alone; a preview lists what the run removes', async () => {
    for (const version of ['v1', 'v2', 'v3']) {
      const result = await runAction(lab, inputs(version), { cwd: workspace })
      expectVerdict(result, 0, 'converged')
      expect(pruned(result).status).toBe('done')
    }
    expect(runningNodes(lab, `${STACK}_app`)).toEqual([lab.managerNode, lab.workerNode].sort())
    const v2 = Object.fromEntries(hosts().map(([node, host]) => [node, imageId(host, 'v2')]))

    const preview = await runAction(lab, inputs('v4', { 'dry-run': 'true' }), { cwd: workspace })
    expect(preview.code).toBe(0)
    const previewed = pruned(preview)
    expect(previewed.status).toBe('previewed')
    expect(preview.summary).toContain('### Image cleanup: previewed')

    const result = await runAction(lab, inputs('v4'), { cwd: workspace })
    expectVerdict(result, 0, 'converged')
    const report = pruned(result)
    expect(report.status).toBe('done')
    for (const [node, host] of hosts()) {
      // The preview named exactly what the run removed: v2 (v1 went after v3's deploy).
      expect(removedBy(previewed, node)).toEqual(removedBy(report, node))
      expect(removedBy(report, node)).toEqual([v2[node]])
      const images = nodeImages(lab, host)
      expect(VERSIONS.filter(v => holds(images, repository, digest[v]!))).toEqual(['v3', 'v4'])
      expect(images.some(i => i.tags.includes(OTHER))).toBe(true)
      const kept = report.nodes.find(n => n.hostname === node)!.kept
      expect(kept.map(k => k.why).sort()).toEqual(['spec', 'task'])
      expect(report.nodes.find(n => n.hostname === node)!.bytesFreed).toBeGreaterThan(0)
    }
    expect(result.log).toMatch(new RegExp(`${lab.workerNode}: removed \\S+ \\(\\d`))
    expect(result.summary).toContain('### Image cleanup: done')
    // The job services are gone.
    expect(docker(lab, ['service', 'ls', '--filter', 'label=io.swarm-deploy.prune-images', '--format', '{{.Name}}']).trim()).toBe('')
  })

  it('rolls back to the previous release (v3) without pulling it', async () => {
    const mark = registryLogMark()
    const result = await runAction(lab, inputs('v4', { rollback: 'previous', 'prune-images': 'false' }), { cwd: workspace })
    expectVerdict(result, 0, 'converged')
    expect(inspectService(lab, `${STACK}_app`).Spec.TaskTemplate.ContainerSpec.Image).toBe(`${repository}:v3@${digest.v3}`)
    expect(runningNodes(lab, `${STACK}_app`)).toEqual([lab.managerNode, lab.workerNode].sort())
    // A node pulling v3 would fetch its blobs; the deploy itself only resolves the tag. Engine 20.10
    // answers that resolve (the CLI's GET /distribution/…/json) by reading the config blob of a
    // single-platform manifest: that request names the docker CLI as its upstream client, and no
    // layer is ever fetched. Engine 28 (an index from BuildKit) fetches no blob at all.
    const { config, layers } = await imageBlobs(lab, NAME, digest.v3!)
    expect(layers.length).toBeGreaterThan(0)
    const blobs = registryRequestsSince(mark, NAME).filter(line => line.includes(`/v2/${NAME}/blobs/`))
    expect(blobs.filter(line => !(line.includes(`/blobs/${config} `) && line.includes('UpstreamClient(Docker-Client/')))).toEqual([])
  })

  it('skips a drained node, which keeps its images, and the deploy still converges', async () => {
    setAvailability(lab, lab.workerNode, 'drain')
    try {
      await waitNoTasksOn(lab, STACK, lab.workerNode)
      const before = nodeImages(lab, lab.workerDockerHost)
        .map(i => i.id)
        .sort()
      const result = await runAction(lab, inputs('v4', { env: 'REPLICAS=1' }), { cwd: workspace })
      expectVerdict(result, 0, 'converged')
      const report = pruned(result)
      const worker = report.nodes.find(n => n.hostname === lab.workerNode)!
      expect(worker.state).toBe('skipped')
      expect(worker.why).toBe('node is drained')
      expect(report.nodes.find(n => n.hostname === lab.managerNode)!.state).toBe('cleaned')
      expect(result.log).toContain(`${lab.workerNode}: skipped (node is drained); its images stay`)
      expect(
        nodeImages(lab, lab.workerDockerHost)
          .map(i => i.id)
          .sort()
      ).toEqual(before)
    } finally {
      setAvailability(lab, lab.workerNode, 'active')
    }
  })

  it('swarm-deploy prune-images: --dry-run lists what the command then removes (v1, pulled onto the worker again), --json', async () => {
    pullOnNode(lab, lab.workerDockerHost, `${repository}@${digest.v1}`)
    const flags = ['prune-images', '--stack', STACK, ...sshFlags(lab), '--prune-image', JOB_IMAGE, '--prune-docker-socket', NODE_SOCKET, '--json']
    const preview = await runCli(lab, [...flags, '--dry-run'])
    expect(preview.code).toBe(0)
    const previewed = JSON.parse(preview.stdout) as PruneReport
    expect(previewed.status).toBe('previewed')
    const v1 = imageId(lab.workerDockerHost, 'v1')
    expect(removedBy(previewed, lab.workerNode)).toEqual([v1])
    expect(removedBy(previewed, lab.managerNode)).toEqual([])

    const cleaned = await runCli(lab, flags)
    expect(cleaned.code).toBe(0)
    const report = JSON.parse(cleaned.stdout) as PruneReport
    expect(report.status).toBe('done')
    expect(removedBy(report, lab.workerNode)).toEqual([v1])
    expect(cleaned.stderr).toMatch(new RegExp(`${lab.workerNode}: removed \\S+@sha256:${digest.v1!.slice(7, 19)} \\(`))
    expect(holds(nodeImages(lab, lab.workerDockerHost), repository, digest.v1!)).toBe(false)
    expect(VERSIONS.filter(v => holds(nodeImages(lab, lab.workerDockerHost), repository, digest[v]!))).toEqual(['v3', 'v4'])
  })
})

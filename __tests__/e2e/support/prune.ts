// What the prune-images e2e test reads on the lab besides the action's
// outputs: each node's images straight from its own engine, an image of
// another repository built on a node, the registry's access log, and a node's
// availability.
import { execFileSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import * as path from 'node:path'
import type { Lab } from '../harness.js'
import { docker, registryAuth, ROOT } from '../harness.js'

/** The lab's job image for prune-images (`lab.sh job-image`: the base image with the runner's static docker CLI), and where each node's socket is. */
export const JOB_IMAGE = 'lab/docker-cli:1'
export const NODE_SOCKET = '/run/swl/{{.Node.Hostname}}.sock'
const REGISTRY_LOG = '/var/lib/swarm-lab/logs/registry.log'

/** Makes sure both nodes hold the job image (a lab brought up before it existed has not). */
export function ensureJobImage(): void {
  execFileSync('bash', [path.join(ROOT, 'lab/lab.sh'), 'job-image'], { stdio: ['ignore', 'ignore', 'pipe'] })
}

export interface NodeImage {
  id: string
  tags: string[]
  digests: string[]
}

/** Every image a node's engine holds, from that engine itself. */
export function nodeImages(lab: Lab, host: string): NodeImage[] {
  const ids = [...new Set(docker(lab, ['image', 'ls', '--quiet', '--no-trunc'], host).trim().split('\n').filter(Boolean))]
  if (ids.length === 0) return []
  const inspected = JSON.parse(docker(lab, ['image', 'inspect', ...ids], host)) as Array<{
    Id: string
    RepoTags: string[] | null
    RepoDigests: string[] | null
  }>
  return inspected.map(i => ({ id: i.Id, tags: i.RepoTags ?? [], digests: i.RepoDigests ?? [] }))
}

/** Whether the node holds the image `repository@digest`. */
export function holds(images: NodeImage[], repository: string, digest: string): boolean {
  return images.some(i => i.digests.includes(`${repository}@${digest}`))
}

/** An image of another repository, on one node only, that no service uses. */
export function buildUnusedImage(lab: Lab, host: string, tag: string): void {
  const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim()
  try {
    execFileSync('sh', ['-c', `printf 'FROM ${lab.baseImage}\\nRUN echo ${tag} > /unused\\n' > ${dir}/Dockerfile`])
    // The nodes have no buildx; the classic builder uses the base image they hold.
    execFileSync('docker', ['build', '--quiet', '--tag', tag, dir], { env: { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0' }, stdio: 'ignore' })
  } finally {
    execFileSync('rm', ['-rf', dir])
  }
}

/** Where the registry's log ends now: what it logs from here on is read by registryRequestsSince. */
export function registryLogMark(): number {
  return statSync(REGISTRY_LOG).size
}

/** The access lines (`"GET /v2/… HTTP/1.1" 200`) the registry logged since the mark for a repository. */
export function registryRequestsSince(mark: number, repository: string): string[] {
  const text = readFileSync(REGISTRY_LOG).subarray(mark).toString('utf8')
  return text.split('\n').filter(line => /^\S+ - - \[/.test(line) && line.includes(` /v2/${repository}/`))
}

export function setAvailability(lab: Lab, node: string, availability: 'active' | 'drain'): void {
  docker(lab, ['node', 'update', '--availability', availability, node])
}

/** Waits until no task of the stack runs on the node any more (a drain moved them). */
export async function waitNoTasksOn(lab: Lab, stack: string, node: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const running = docker(lab, ['node', 'ps', node, '--filter', 'desired-state=running', '--format', '{{.Name}}']).split('\n')
    if (!running.some(name => name.startsWith(`${stack}_`))) return
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  throw new Error(`tasks of ${stack} still run on ${node}`)
}

/** Pulls an image of the lab registry onto one node, as the lab's user (a throwaway Docker config). */
export function pullOnNode(lab: Lab, host: string, image: string): void {
  const config = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim()
  const env = { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: config }
  try {
    execFileSync('docker', ['login', '--username', lab.registryUser, '--password-stdin', lab.registry], {
      env,
      input: lab.registryPassword,
      stdio: ['pipe', 'ignore', 'pipe']
    })
    execFileSync('docker', ['pull', '--quiet', image], { env, stdio: 'ignore' })
  } finally {
    execFileSync('rm', ['-rf', config])
  }
}

const MANIFESTS = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')

/** The config and layer digests of an image in the lab registry (an index: its linux/amd64 manifest). */
export async function imageBlobs(lab: Lab, repository: string, digest: string): Promise<{ config: string; layers: string[] }> {
  const get = async (
    ref: string
  ): Promise<{
    manifests?: Array<{ digest: string; platform?: { architecture?: string } }>
    config?: { digest: string }
    layers?: Array<{ digest: string }>
  }> => {
    const response = await fetch(`http://${lab.registry}/v2/${repository}/manifests/${ref}`, {
      headers: { authorization: registryAuth(lab), accept: MANIFESTS },
      signal: AbortSignal.timeout(5_000)
    })
    if (!response.ok) throw new Error(`registry: GET ${repository}@${ref}: HTTP ${response.status}`)
    return (await response.json()) as Awaited<ReturnType<typeof get>>
  }
  let manifest = await get(digest)
  if (manifest.manifests) manifest = await get(manifest.manifests.find(m => m.platform?.architecture === 'amd64')!.digest)
  return { config: manifest.config!.digest, layers: (manifest.layers ?? []).map(l => l.digest) }
}

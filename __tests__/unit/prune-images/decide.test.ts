// The decision on data recorded from the lab (__tests__/fixtures/prune-images):
// stack prune-rec deployed v1, v2, v3 (two replicas, one per node,
// keep-releases 2) beside other runs' stacks; each node's listing is the
// listing job's own log.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ImageRow, PruneFacts } from '../../../src/prune-images/decide.js'
import { afterDeploy, decidePrune, stackRepositories } from '../../../src/prune-images/decide.js'
import { readListing } from '../../../src/prune-images/job-spec.js'
import type { Node, Service, Task } from '../../../src/swarm/model.js'

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/prune-images')
const swarm = JSON.parse(readFileSync(path.join(FIXTURES, 'swarm.json'), 'utf8')) as {
  stack: string
  services: Service[]
  tasks: Task[]
  nodes: Node[]
  releases: Array<{ number: number; services: Array<{ name: string; image: string }> }>
}
const nodeId = (hostname: string): string => swarm.nodes.find(n => n.Description?.Hostname === hostname)!.ID
const listings = new Map(['swl-mgr', 'swl-wrk'].map(h => [nodeId(h), readListing(readFileSync(path.join(FIXTURES, `listing-${h}.txt`), 'utf8'))!]))

const REPO = '10.77.0.1:5000/prune-rec/app'
const V1 = 'sha256:e17d42a73e599888c9d9cce8647909e48733e1868f1e10edd65b62d5190b6fc1'
const V2 = 'sha256:4265fa7969f9fac4079643eac761807f441081489171200bdd37d430000674d2'
const V3 = 'sha256:337e91ee68e1a20bc552defe056c061a282b8b390abb74b94a3ba8e2ded3968d'
const digestsOf = (images: ImageRow[]): string[] => images.flatMap(i => i.digests).map(d => d.split('@')[1]!)

const facts: PruneFacts = {
  stack: swarm.stack,
  services: swarm.services,
  tasks: swarm.tasks,
  keptReleases: swarm.releases,
  releaseImages: swarm.releases.flatMap(r => r.services.map(s => s.image))
}

describe('decidePrune on a recorded swarm', () => {
  it('reads each node listing whole', () => {
    for (const rows of listings.values()) {
      expect(rows).toHaveLength(10)
      expect(rows.every(r => r.id.startsWith('sha256:') && r.size > 0)).toBe(true)
    }
  })

  it("takes the stack's repository from its specs and releases, and no other stack's", () => {
    expect([...stackRepositories(facts)]).toEqual([REPO])
  })

  it('removes v1 on each node and keeps v3 (a task runs it) and v2 (previous spec, kept release); other repositories are not touched', () => {
    for (const decision of decidePrune(facts, listings)) {
      expect(digestsOf(decision.remove)).toEqual([V1])
      expect(decision.kept.map(k => [digestsOf([k.image])[0], k.why]).sort()).toEqual(
        [
          [V3, 'task'],
          [V2, 'spec']
        ].sort()
      )
    }
  })

  it('keeps an image a kept release needs though no spec names it any more', () => {
    const noPrevious = { ...facts, services: facts.services.map(s => (s.Spec.Name === 'prune-rec_app' ? { ...s, PreviousSpec: undefined } : s)) }
    const decision = decidePrune(noPrevious, listings)[0]!
    expect(decision.kept.find(k => digestsOf([k.image])[0] === V2)?.why).toBe('release')
    expect(digestsOf(decision.remove)).toEqual([V1])
  })

  it("keeps an image another stack's service spec names, whatever its repository", () => {
    const v1 = `${REPO}:v1@${V1}`
    const other = {
      ...facts.services[0]!,
      ID: 'other',
      Spec: { ...facts.services[0]!.Spec, Name: 'other_app', Labels: { 'com.docker.stack.namespace': 'other' }, TaskTemplate: { ContainerSpec: { Image: v1 } } }
    }
    const decision = decidePrune({ ...facts, services: [...facts.services, other] }, listings)[0]!
    expect(decision.remove).toEqual([])
    expect(decision.kept.find(k => digestsOf([k.image])[0] === V1)?.why).toBe('spec')
  })

  it('keeps an image a task still runs on its own node only (a task stopping, not yet shut down)', () => {
    const mgr = nodeId('swl-mgr')
    const stopping: Task = {
      ID: 'stopping',
      ServiceID: 'x',
      NodeID: mgr,
      DesiredState: 'shutdown',
      Status: { State: 'running' },
      Spec: { ContainerSpec: { Image: `${REPO}@${V1}` } }
    }
    const decisions = decidePrune({ ...facts, tasks: [...facts.tasks, stopping] }, listings)
    expect(digestsOf(decisions.find(d => d.node === mgr)!.remove)).toEqual([])
    expect(digestsOf(decisions.find(d => d.node !== mgr)!.remove)).toEqual([V1])
  })

  it('previews the state after the deploy: the current spec becomes the previous one, the oldest kept release goes', () => {
    const predicted = afterDeploy(facts, new Set(['prune-rec_app']), [`${REPO}:v4`], 2)
    expect(predicted.keptReleases).toEqual([swarm.releases[0]])
    for (const decision of decidePrune(predicted, listings)) expect(digestsOf(decision.remove).sort()).toEqual([V1, V2].sort())
  })
})

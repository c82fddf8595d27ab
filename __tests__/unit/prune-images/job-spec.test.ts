import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { jobName, jobServiceArgs, readListing, readRemoval, removeList } from '../../../src/prune-images/job-spec.js'

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/prune-images')
const A = `sha256:${'a'.repeat(64)}`
const B = `sha256:${'b'.repeat(64)}`
const spec = { stack: 'web', image: 'docker:27.5.1-cli@sha256:851f', socket: '/var/run/docker.sock', skip: ['drained1'], runId: 'r1' }

describe('the job services', () => {
  it('are global jobs with the socket mounted, no network, secret or registry credential, kept off skipped nodes', () => {
    const args = jobServiceArgs({ ...spec, kind: 'list' })
    expect(args.slice(0, 10)).toEqual([
      'service',
      'create',
      '--detach',
      '--quiet',
      '--name',
      'web-prune-images-list-r1',
      '--mode',
      'global-job',
      '--restart-condition',
      'none'
    ])
    expect(args).toContain('type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock')
    expect(args).toContain('node.id!=drained1')
    expect(args).toContain('--no-resolve-image')
    for (const flag of ['--network', '--secret', '--with-registry-auth', '--config', '--publish']) expect(args).not.toContain(flag)
    expect(args.slice(-4, -1)).toEqual(['sh', 'docker:27.5.1-cli@sha256:851f', '-c'])
  })

  it('give the remove job each node its IDs in one variable, and name the run', () => {
    const ids = new Map([
      ['n1', [A, B]],
      ['n2', []],
      ['n3', [B]]
    ])
    expect(removeList(ids)).toBe(`n1=${A},${B} n3=${B}`)
    expect(jobServiceArgs({ ...spec, kind: 'remove', remove: ids })).toContain(`PRUNE_IDS=n1=${A},${B} n3=${B}`)
    expect(jobName({ kind: 'remove', stack: 'a'.repeat(80), runId: 'r' })).toHaveLength(63)
  })
})

describe('the job logs, as recorded from the lab', () => {
  it('a listing is whole only with its last line', () => {
    const log = readFileSync(path.join(FIXTURES, 'listing-swl-mgr.txt'), 'utf8')
    expect(readListing(log)).toHaveLength(10)
    expect(readListing(log.replace('listed\n', ''))).toBeUndefined()
    expect(readListing(log)![0]).toEqual({
      id: 'sha256:05e0578d3eac01e438dec83dff98f5b3ccb87fd686996e0db1cf753f40666b2b',
      size: 1985595,
      tags: [],
      digests: ['10.77.0.1:5000/prune-rec/app@sha256:e17d42a73e599888c9d9cce8647909e48733e1868f1e10edd65b62d5190b6fc1']
    })
  })

  it('a removal names what went and what the engine refused (a running container holds it)', () => {
    const report = readRemoval(readFileSync(path.join(FIXTURES, 'removal-swl-mgr.txt'), 'utf8'))
    expect(report.removed).toEqual(['sha256:05e0578d3eac01e438dec83dff98f5b3ccb87fd686996e0db1cf753f40666b2b'])
    expect(report.refused).toEqual([
      {
        id: 'sha256:4bd6460d9cb459d5c63f3a542a32225997d4043f3a08999e627fd60e99aa4704',
        why: 'Error response from daemon: conflict: unable to delete 4bd6460d9cb4 (cannot be forced) - image is being used by running container 7611d867f756'
      }
    ])
    expect(report.finished).toBe(true)
    expect(readRemoval('removed x\n').finished).toBe(false)
  })
})

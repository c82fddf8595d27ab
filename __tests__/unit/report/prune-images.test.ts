import { describe, expect, it } from '@jest/globals'
import type { PruneReport } from '../../../src/prune-images/prune.js'
import { byteSize, pruneLines, renderPruneSummary } from '../../../src/report/prune-images.js'

const D = (c: string): string => `sha256:${c.repeat(64)}`
const image = (c: string, size = 1985595) => ({ id: D(c), names: [`10.77.0.1:5000/app@${D(c)}`], size })

const report: PruneReport = {
  status: 'done',
  nodes: [
    {
      node: 'n1',
      hostname: 'swl-mgr',
      state: 'cleaned',
      removed: [image('1')],
      bytesFreed: 1985595,
      refused: [{ ...image('5'), why: 'conflict: image is being used by running container 7611d867f756' }],
      kept: [
        { ...image('3'), why: 'task' },
        { ...image('2'), why: 'release' }
      ]
    },
    { node: 'n2', hostname: 'swl-wrk', state: 'skipped', why: 'node is drained', removed: [], bytesFreed: 0, refused: [], kept: [] },
    {
      node: 'n3',
      hostname: 'swl-n3',
      state: 'failed',
      why: 'listing: rejected: No such image: docker:27-cli',
      removed: [],
      bytesFreed: 0,
      refused: [],
      kept: []
    }
  ]
}

describe('the image cleanup report', () => {
  it('sizes in decimal units as docker image ls prints them', () => {
    expect(byteSize(0)).toBe('0 B')
    expect(byteSize(1985595)).toBe('1.99 MB')
    expect(byteSize(44777476)).toBe('44.8 MB')
    expect(byteSize(3_200_000_000)).toBe('3.20 GB')
  })

  it('one line per node: removed with the bytes, left by the engine, kept and why, skipped, failed', () => {
    expect(pruneLines(report)).toEqual([
      'Image cleanup done: 1.99 MB freed',
      `swl-mgr: removed 10.77.0.1:5000/app@sha256:111111111111 (1.99 MB freed); left 10.77.0.1:5000/app@sha256:555555555555 (conflict: image is being used by running container 7611d867f756); kept 10.77.0.1:5000/app@sha256:333333333333 (a task on the node uses it), 10.77.0.1:5000/app@sha256:222222222222 (a kept release)`,
      'swl-wrk: skipped (node is drained); its images stay',
      'swl-n3: not cleaned: listing: rejected: No such image: docker:27-cli'
    ])
    expect(pruneLines({ status: 'previewed', nodes: [{ ...report.nodes[0]!, state: 'previewed', refused: [], kept: [] }] })).toEqual([
      'Image cleanup preview: 1.99 MB would be freed',
      'swl-mgr: would remove 10.77.0.1:5000/app@sha256:111111111111 (1.99 MB)'
    ])
  })

  it('a table in the job summary, names as code', () => {
    const summary = renderPruneSummary(report)
    expect(summary).toContain('### Image cleanup: done')
    expect(summary).toContain(
      '| swl-mgr | cleaned | `10.77.0.1:5000/app@sha256:111111111111` | 1.99 MB | `10.77.0.1:5000/app@sha256:333333333333` (a task on the node uses it)'
    )
    expect(summary).toContain('| swl-wrk | skipped: node is drained | – | 0 B | – |')
  })
})

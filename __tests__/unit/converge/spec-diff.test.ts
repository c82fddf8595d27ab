import { describe, expect, it } from '@jest/globals'
import { specChanges } from '../../../src/converge/spec-diff.js'

const spec = (extra: { image?: string; env?: string[]; replicas?: number; force?: number; labels?: Record<string, string>; args?: string[] } = {}) => ({
  Name: 'shop_web',
  Labels: { 'com.docker.stack.namespace': 'shop', ...extra.labels },
  TaskTemplate: {
    ContainerSpec: { Image: extra.image ?? 'reg/app:1@sha256:aa', Env: extra.env ?? ['DB_PASSWORD=hunter22', 'MODE=blue'], Args: extra.args },
    ForceUpdate: extra.force ?? 0
  },
  Mode: { Replicated: { Replicas: extra.replicas ?? 3 } },
  UpdateConfig: { Parallelism: 1 }
})

describe('specChanges', () => {
  it('is empty for the same spec, whatever the field order', () => {
    const a = spec()
    const reordered = { UpdateConfig: a.UpdateConfig, Mode: a.Mode, TaskTemplate: a.TaskTemplate, Labels: a.Labels, Name: a.Name }
    expect(specChanges(a, reordered)).toEqual([])
  })

  it('says the image old → new, variable names and replicas', () => {
    const after = spec({ image: 'reg/app:0@sha256:bb', env: ['DB_PASSWORD=other-secret', 'FOREIGN=1'], replicas: 1 })
    expect(specChanges(spec(), after)).toEqual([
      'image reg/app:1@sha256:aa → reg/app:0@sha256:bb',
      'environment FOREIGN added; MODE removed; DB_PASSWORD changed',
      'replicas 3 → 1'
    ])
  })

  it('never shows a value of the environment, labels or other fields', () => {
    const after = spec({ env: ['DB_PASSWORD=other-secret', 'MODE=blue'], labels: { token: 'label-secret' }, args: ['--password', 'arg-secret'] })
    const text = specChanges(spec(), after).join('\n')
    expect(text).toBe('environment DB_PASSWORD changed\nlabels token added\nalso TaskTemplate.ContainerSpec.Args')
    for (const value of ['hunter22', 'other-secret', 'label-secret', 'arg-secret']) expect(text).not.toContain(value)
  })

  it('names a forced restart and fields it does not describe by their path', () => {
    const after = { ...spec({ force: 1 }), UpdateConfig: { Parallelism: 2 }, EndpointSpec: { Mode: 'dnsrr' } }
    expect(specChanges(spec(), after)).toEqual(['tasks restarted (--force)', 'also EndpointSpec, UpdateConfig.Parallelism'])
  })
})

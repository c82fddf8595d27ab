import { describe, expect, it } from '@jest/globals'
import { digestOf, fullRepository, parseReference } from '../../../src/prune-images/references.js'

const D = `sha256:${'a'.repeat(64)}`

describe('image references', () => {
  it('make Docker Hub short names whole, and keep a registry with a port', () => {
    expect(fullRepository('nginx')).toBe('docker.io/library/nginx')
    expect(fullRepository('lab/busybox')).toBe('docker.io/lab/busybox')
    expect(fullRepository('index.docker.io/library/nginx')).toBe('docker.io/library/nginx')
    expect(fullRepository('10.77.0.1:5000/prune/app')).toBe('10.77.0.1:5000/prune/app')
    expect(fullRepository('localhost/app')).toBe('localhost/app')
  })

  it('read a spec image, a node RepoDigest and a node RepoTag alike', () => {
    expect(parseReference(`10.77.0.1:5000/prune/app:v3@${D}`)).toEqual({ repository: '10.77.0.1:5000/prune/app', tag: 'v3', digest: D })
    expect(parseReference(`10.77.0.1:5000/prune/app@${D}`)).toEqual({ repository: '10.77.0.1:5000/prune/app', digest: D })
    expect(parseReference('nginx:1.27')).toEqual({ repository: 'docker.io/library/nginx', tag: '1.27' })
    expect(parseReference('10.77.0.1:5000/app')).toEqual({ repository: '10.77.0.1:5000/app' })
  })

  it('name no repository for <none> or a reference that still holds a variable, and keep its digest', () => {
    expect(parseReference('<none>:<none>')).toBeUndefined()
    expect(parseReference('')).toBeUndefined()
    expect(parseReference(`\${BASE_IMAGE}@${D}`)).toEqual({ repository: '', digest: D })
    expect(digestOf(`\${BASE_IMAGE}@${D}`)).toBe(D)
    expect(digestOf('nginx:1')).toBeUndefined()
  })
})

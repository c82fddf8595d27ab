// prune-images, prune-image and prune-docker-socket.
import { describe, expect, it } from '@jest/globals'
import { getInputs } from '../../../src/inputs/inputs.js'

const context = { env: {}, isFile: (p: string) => p === 'docker-compose.yml', readFile: () => '' }
const get = (values: Record<string, string>) => getInputs(name => ({ stack: 'web', ...values })[name] ?? '', context)

describe('prune-images inputs', () => {
  it('are off by default; on, the job image defaults to the official docker CLI image pinned by digest, and the socket to the usual one', () => {
    expect(get({}).pruneImages).toBeUndefined()
    expect(get({ 'prune-images': 'true' }).pruneImages).toEqual({
      image: 'docker:27.5.1-cli@sha256:851f91d241214e7c6db86513b270d58776379aacc5eb9c4a87e5b47115e3065c',
      socket: '/var/run/docker.sock'
    })
    expect(get({ 'prune-images': 'true', 'prune-image': 'lab/docker-cli:1', 'prune-docker-socket': '/run/swl/{{.Node.Hostname}}.sock' }).pruneImages).toEqual({
      image: 'lab/docker-cli:1',
      socket: '/run/swl/{{.Node.Hostname}}.sock'
    })
  })

  it('refuse an image with spaces and a socket that is not an absolute path (a comma would end the --mount value)', () => {
    expect(() => get({ 'prune-images': 'true', 'prune-image': 'docker cli' })).toThrow("prune-image: 'docker cli' is not an image reference")
    expect(() => get({ 'prune-images': 'true', 'prune-docker-socket': 'docker.sock' })).toThrow("prune-docker-socket: 'docker.sock' is not an absolute path")
    expect(() => get({ 'prune-images': 'true', 'prune-docker-socket': '/a.sock,readonly' })).toThrow(/prune-docker-socket/)
    expect(() => get({ 'prune-images': 'maybe' })).toThrow(/prune-images/)
  })
})

// Real-world image names, split the way the docker CLI does
// (distribution/reference's splitDockerDomain and ParseNormalizedNamed):
// which registry to log in to and ask, and the repository name the
// registry's HTTP API knows.
import { describe, expect, it } from '@jest/globals'
import { parseRepository, registryOf, splitRepository } from '../../../src/inputs/parse.js'
import { digestFromRepoDigests } from '../../../src/build/image.js'
import { getInputs } from '../../../src/inputs/inputs.js'

const DIGEST = `sha256:${'ab'.repeat(32)}`

describe('registry names', () => {
  it.each([
    // name, registry, repository on that registry
    ['acme/api', 'docker.io', 'acme/api'],
    ['docker.io/acme/api', 'docker.io', 'acme/api'],
    ['index.docker.io/acme/api', 'docker.io', 'acme/api'],
    ['library/nginx', 'docker.io', 'library/nginx'],
    ['nginx', 'docker.io', 'library/nginx'],
    ['docker.io/nginx', 'docker.io', 'library/nginx'],
    ['docker.io/library/nginx', 'docker.io', 'library/nginx'],
    ['localhost:5000/x', 'localhost:5000', 'x'],
    ['localhost/x', 'localhost', 'x'],
    ['registry:5000/x', 'registry:5000', 'x'],
    ['10.77.0.1:5000/e2e/hello', '10.77.0.1:5000', 'e2e/hello'],
    ['ghcr.io/o/r', 'ghcr.io', 'o/r'],
    ['ghcr.io/o/team/r', 'ghcr.io', 'o/team/r'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/x', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'x'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api', '123456789012.dkr.ecr.us-east-1.amazonaws.com', 'team/api'],
    // No dot, no port, not localhost: a Docker Hub namespace, not a host.
    ['registry/x', 'docker.io', 'registry/x'],
    ['my_org/my-app.v2', 'docker.io', 'my_org/my-app.v2']
  ])('%s is %s, repository %s', (name, registry, repository) => {
    expect(parseRepository('image', name)).toBe(name)
    expect(registryOf(name)).toBe(registry)
    expect(splitRepository(name)).toEqual({ registry, repository })
  })

  it.each([
    'Acme/api',
    'acme/API',
    'ghcr.io/Owner/repo',
    'GHCR.IO/o/r',
    'acme/api:latest',
    'acme/api@sha256:' + 'ab'.repeat(32),
    'localhost:5000/x:1',
    'ghcr.io/o/r/',
    '/acme/api',
    'acme//api',
    '-acme/api',
    'acme/-api',
    'registry:port/x',
    '',
    'a'.repeat(256)
  ])('rejects %p', name => {
    expect(() => parseRepository('image', name)).toThrow(/^image: .* is not an image repository like docker\.io\/acme\/api .*lowercase/)
  })

  it('says that upper case is the problem when it is', () => {
    expect(() => parseRepository('image', 'ghcr.io/Owner/repo')).toThrow(/must be lowercase/)
    expect(() => parseRepository('image', 'acme/api:latest')).not.toThrow(/must be lowercase/)
  })

  it('finds the digest the engine records under the short Docker Hub name', () => {
    const repoDigests = JSON.stringify([`acme/api@${DIGEST}`])
    expect(digestFromRepoDigests(repoDigests, 'acme/api')).toBe(DIGEST)
    expect(digestFromRepoDigests(repoDigests, 'docker.io/acme/api')).toBe(DIGEST)
    expect(digestFromRepoDigests(repoDigests, 'index.docker.io/acme/api')).toBe(DIGEST)
    expect(digestFromRepoDigests(JSON.stringify([`nginx@${DIGEST}`]), 'docker.io/library/nginx')).toBe(DIGEST)
    expect(digestFromRepoDigests(JSON.stringify([`ghcr.io/o/r@${DIGEST}`]), 'ghcr.io/o/r')).toBe(DIGEST)
  })

  it('logs in to Docker Hub under one name, whichever spelling the inputs use', () => {
    const context = { env: { GITHUB_SHA: 'abc' }, isFile: () => true, readFile: () => '' }
    const inputs = (values: Record<string, string>) => getInputs(name => values[name] ?? '', context)
    const login = { 'registry-username': 'me', 'registry-password': 'pw', stack: 'web' }
    expect(inputs({ ...login, image: 'index.docker.io/acme/api' }).registry).toEqual({ registry: 'docker.io', username: 'me', password: 'pw' })
    expect(inputs({ ...login, image: 'acme/api', registry: 'index.docker.io' }).registry).toEqual({ registry: 'docker.io', username: 'me', password: 'pw' })
    expect(inputs({ ...login, image: 'ghcr.io/o/r' }).registry).toEqual({ registry: 'ghcr.io', username: 'me', password: 'pw' })
  })
})

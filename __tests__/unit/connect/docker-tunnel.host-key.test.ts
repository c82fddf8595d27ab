// RSA host keys are verified with SHA-2 signatures only, against a real SSH
// server on loopback.
import { afterEach, describe, expect, it } from '@jest/globals'
import { openSsh } from '../../../src/connect/ssh.js'
import type { TestSshServer } from '../../support/ssh-server.js'
import { QUIET, startSshServer } from '../../support/ssh-server.js'

let server: TestSshServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('SSH host key algorithms', () => {
  it('verifies an RSA host key with rsa-sha2-512', async () => {
    server = await startSshServer({ hostKeyType: 'rsa' })
    const ssh = await openSsh(server.target, QUIET)
    ssh.dispose()
    expect(server.negotiated).toEqual(['rsa-sha2-512'])
  })

  it('refuses a server that offers only ssh-rsa (SHA-1) signatures', async () => {
    server = await startSshServer({ hostKeyType: 'rsa', serverHostKey: ['ssh-rsa'] })
    const connected = openSsh(server.target, QUIET).then(ssh => {
      ssh.dispose()
      return 'connected'
    })
    await expect(connected).rejects.toThrow(/^ssh: cannot connect to test@127\.0\.0\.1:\d+: /)
    expect(server.negotiated).toEqual([])
  })
})

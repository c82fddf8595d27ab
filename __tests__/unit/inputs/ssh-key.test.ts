// ssh-key and ssh-key-passphrase: what ssh2 can sign with is accepted, the
// rest stops with one line that says what to do and quotes neither secret.
import { describe, expect, it } from '@jest/globals'
import { generateKeyPairSync } from 'node:crypto'
import { readPrivateKey } from '../../../src/inputs/ssh-key.js'
import { sshKeyPair } from '../../support/ssh-server.js'

const PASS = 'correct horse battery'

function pem(type: 'rsa' | 'ec', passphrase?: string): string {
  const cipher = passphrase ? { cipher: 'aes-128-cbc', passphrase } : {}
  if (type === 'rsa')
    return generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem', ...cipher })
      .toString()
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'sec1', format: 'pem', ...cipher })
    .toString()
}

const openssh = (type: 'rsa' | 'ecdsa' | 'ed25519', passphrase?: string): string =>
  sshKeyPair(type, { ...(type === 'rsa' ? { bits: 2048 } : type === 'ecdsa' ? { bits: 256 } : {}), ...(passphrase ? { passphrase } : {}) }).private

describe('readPrivateKey', () => {
  it.each([
    ['RSA PEM', () => pem('rsa'), false],
    ['encrypted RSA PEM', () => pem('rsa', PASS), true],
    ['ECDSA PEM', () => pem('ec'), false],
    ['encrypted ECDSA PEM', () => pem('ec', PASS), true],
    ['RSA OpenSSH', () => openssh('rsa'), false],
    ['encrypted ECDSA OpenSSH', () => openssh('ecdsa', PASS), true],
    ['ed25519 OpenSSH', () => openssh('ed25519'), false],
    ['encrypted ed25519 OpenSSH', () => openssh('ed25519', PASS), true]
  ])('reads a %s key', (_name, make, encrypted) => {
    const key = make()
    const read = readPrivateKey(key, encrypted ? PASS : '')
    expect(read.passphrase).toBe(encrypted ? PASS : undefined)
    expect(read.privateKey).toBe(key.trim() + '\n')
  })

  it('takes a passphrase file that ends in a newline', () => {
    expect(readPrivateKey(pem('rsa', PASS), `${PASS}\n`).passphrase).toBe(PASS)
  })

  it.each([
    ['an encrypted key without passphrase', () => pem('rsa', PASS), '', 'ssh-key: is encrypted: give its passphrase in ssh-key-passphrase'],
    ['an encrypted OpenSSH key without passphrase', () => openssh('ed25519', PASS), '', 'ssh-key: is encrypted: give its passphrase in ssh-key-passphrase'],
    [
      'a wrong passphrase (PEM)',
      () => pem('rsa', PASS),
      'wrong-passphrase',
      'ssh-key-passphrase: does not decrypt ssh-key: give the passphrase of this key (the one ssh-keygen -p asks for)'
    ],
    [
      'a wrong passphrase (OpenSSH)',
      () => openssh('ed25519', PASS),
      'wrong-passphrase',
      'ssh-key-passphrase: does not decrypt ssh-key: give the passphrase of this key (the one ssh-keygen -p asks for)'
    ],
    [
      'text that is no key',
      () => 'not-a-key-at-all',
      '',
      /^ssh-key: is not a private key this action can read: give a whole RSA, ECDSA or ed25519 private key file in OpenSSH or PEM format/
    ],
    ['a public key', () => sshKeyPair('ed25519').public, '', 'ssh-key: is a public key: give the private key (the file without .pub)']
  ])('refuses %s in one line that quotes no secret', (_name, make, passphrase, message) => {
    const key = make()
    let error: Error | undefined
    try {
      readPrivateKey(key, passphrase)
    } catch (caught) {
      error = caught as Error
    }
    expect(error?.message).toEqual(typeof message === 'string' ? message : expect.stringMatching(message))
    expect(error!.message.split('\n')).toHaveLength(1)
    for (const line of key.split('\n').filter(l => l.length > 8)) expect(error!.message).not.toContain(line)
    if (passphrase !== '') expect(error!.message).not.toContain(passphrase)
  })
})

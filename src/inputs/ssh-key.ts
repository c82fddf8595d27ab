// The private key and its passphrase, checked once with ssh2's own parser
// (the one that will sign with it), so a key that cannot be used stops the
// run before anything is built, with one line that says what to do. No
// message quotes the key, the passphrase or ssh2's text about them.
import { utils as sshUtils } from 'ssh2'
import { InputError } from './parse.js'

const SUPPORTED = /^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521))$/

export interface PrivateKey {
  privateKey: string
  /** Only for an encrypted key. */
  passphrase: string | undefined
}

/** Secrets pasted into the GitHub UI often lose the final newline or gain CRLF. */
export function normalizeKey(key: string): string {
  return key.replace(/\r\n/g, '\n').trim() + '\n'
}

function isEncrypted(key: string): boolean {
  const plain = sshUtils.parseKey(key)
  return plain instanceof Error ? /no passphrase given/i.test(plain.message) : false
}

export function readPrivateKey(rawKey: string, rawPassphrase: string): PrivateKey {
  const privateKey = normalizeKey(rawKey)
  // A passphrase is the user's text to the byte: only an empty one means none.
  // (A file given to the CLI ends in a newline.)
  const text = rawPassphrase.replace(/\r?\n$/, '')
  const passphrase = text === '' ? undefined : text
  const encrypted = isEncrypted(privateKey)
  if (encrypted && passphrase === undefined) {
    throw new InputError('ssh-key', 'is encrypted: give its passphrase in ssh-key-passphrase')
  }
  const parsed = sshUtils.parseKey(privateKey, encrypted ? passphrase : undefined)
  if (parsed instanceof Error) {
    if (encrypted) throw new InputError('ssh-key-passphrase', 'does not decrypt ssh-key: give the passphrase of this key (the one ssh-keygen -p asks for)')
    throw new InputError(
      'ssh-key',
      'is not a private key this action can read: give a whole RSA, ECDSA or ed25519 private key file in OpenSSH or PEM format, BEGIN and END lines included'
    )
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed
  if (!key?.isPrivateKey()) throw new InputError('ssh-key', 'is a public key: give the private key (the file without .pub)')
  if (!SUPPORTED.test(key.type))
    throw new InputError('ssh-key', `is a ${key.type} key, which is not supported: use an RSA, ECDSA or ed25519 key (ssh-keygen -t ed25519)`)
  return { privateKey, passphrase: encrypted ? passphrase : undefined }
}

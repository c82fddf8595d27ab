// jump-host, jump-ssh-key and jump-known-hosts: a bastion the manager
// connections are forwarded through. Checked here like the manager's inputs,
// its known-hosts line included, before anything is done.
import { hostKeyAlgorithms, hostKeyName, parseKnownHosts } from '../connect/known-hosts.js'
import { InputError, parseHost } from './parse.js'
import { readPrivateKey } from './ssh-key.js'
import type { JumpHost } from '../ports.js'

const USER = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$/

interface ManagerLogin {
  user: string
  rawKey: string
  passphraseInput: string
  insecureIgnoreHostKey: boolean
}

export function readJumpHost(read: (name: string) => string, manager: ManagerLogin): JumpHost | undefined {
  const raw = read('jump-host').trim()
  if (raw === '') {
    for (const name of ['jump-ssh-key', 'jump-known-hosts']) {
      if (read(name).trim() !== '') throw new InputError(name, 'is set but jump-host is empty: give jump-host, or remove it')
    }
    return undefined
  }
  const at = raw.lastIndexOf('@')
  const user = at < 0 ? manager.user : raw.slice(0, at)
  if (!USER.test(user)) throw new InputError('jump-host', `'${user}' is not a valid user name: give user@host or user@host:port`)
  const { host, port } = parseHost('jump-host', raw.slice(at + 1), 22)

  const ownKey = read('jump-ssh-key')
  // The same passphrase input serves both keys: with no jump-ssh-key the key is the same.
  const { privateKey, passphrase } =
    ownKey.trim() === '' ? readPrivateKey(manager.rawKey, manager.passphraseInput) : renamed(() => readPrivateKey(ownKey, manager.passphraseInput))

  const knownHosts = read('jump-known-hosts').trim()
  if (knownHosts === '') {
    if (!manager.insecureIgnoreHostKey) {
      throw new InputError(
        'jump-known-hosts',
        "is required with jump-host: give the jump host's known_hosts line(s) (ssh-keyscan -p PORT HOST), or set insecure-ignore-host-key: true"
      )
    }
    return { host, port, user, privateKey, passphrase, knownHosts: undefined }
  }
  let entries
  try {
    entries = parseKnownHosts(knownHosts)
  } catch (error) {
    throw new InputError('jump-known-hosts', (error as Error).message.replace(/^known-hosts: /, ''))
  }
  if (hostKeyAlgorithms(entries, host, port).length === 0) {
    throw new InputError('jump-known-hosts', `has no key for ${hostKeyName(host, port)}: add the line(s) ssh-keyscan -p ${port} ${host} prints`)
  }
  return { host, port, user, privateKey, passphrase, knownHosts }
}

/** Errors about the jump key name the input it came from. */
function renamed<T>(fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    if (error instanceof InputError)
      throw new InputError('jump-ssh-key', error.message.replace(/^ssh-key(-passphrase)?: /, '').replace(/ssh-key/g, 'jump-ssh-key'))
    throw error
  }
}

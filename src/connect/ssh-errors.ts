// Why a manager could not be used, in a few words a person can act on. Pure:
// the SSH client's error or the far end's stderr in, one reason out. No
// reason quotes the key or its passphrase (ssh2's messages hold neither).
import { troubleOf, troubleReason } from './manager-trouble.js'

export interface ConnectFailure {
  code?: string
  level?: string
  message: string
}

/** Why the SSH connection to `user@where` did not come up within `timeoutMs`. */
export function connectReason(error: ConnectFailure, user: string, timeoutMs: number): string {
  const seconds = `${Math.round(timeoutMs / 100) / 10}s`
  if (error.level === 'client-authentication') {
    return `permission denied (publickey): ${user} did not accept ssh-key; add its public key to ~${user}/.ssh/authorized_keys on the manager, or give the key that is there`
  }
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (no sshd listens on that port)'
    case 'ETIMEDOUT':
      return `timed out after ${seconds}`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable (no route to host)'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host name'
    case 'ECONNRESET':
      return 'connection reset during the handshake'
  }
  if (/timed out while waiting for handshake/i.test(error.message)) return `timed out after ${seconds}`
  return error.message
}

/** Why `docker system dial-stdio` on the manager could not reach its engine, from what it printed. */
export function dialReason(stderr: string, user: string): string {
  const text = stderr.trim()
  if (/permission denied/i.test(text)) {
    return `the user ${user} cannot reach the Docker engine on the manager (permission denied on the socket): add ${user} to the docker group there (usermod -aG docker ${user}) or use a user that can run docker`
  }
  // Before "not found": a 28.x CLI says a missing engine socket is "no such file or directory".
  if (troubleOf(text) === 'engine-down') return troubleReason('engine-down')
  if (/command not found|not found|no such file/i.test(text)) return `docker is not installed for ${user} on the manager (docker system dial-stdio did not run)`
  const first = text.split('\n')[0] ?? ''
  return first === '' ? 'its Docker engine did not answer' : `its Docker engine cannot be reached: ${first}`
}

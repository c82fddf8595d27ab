// What is secret, and the two things done with it: every front end is told
// to mask it before anything prints, and text from outside (Swarm's task
// errors and update messages, container logs) is redacted by us, because we
// also print outside a runner and into the job summary and outputs.
import type { Snapshot } from './swarm/model.js'

/** Inputs whose values are secret. A command line must never carry them (the CLI refuses them as flags). */
export const SECRET_INPUTS = ['ssh-key', 'registry-password', 'env', 'ssh-key-passphrase', 'jump-ssh-key'] as const

/** Values that must be masked before anything is printed, from the raw inputs. */
export function secretsOf(read: (name: string) => string): string[] {
  const values = [read('ssh-key'), read('registry-password'), read('ssh-key-passphrase'), read('jump-ssh-key')]
  // Parsing can fail later; mask every `=`-value it might hold regardless.
  for (const line of read('env').split(/\r?\n/)) {
    const eq = line.indexOf('=')
    if (eq >= 0) values.push(line.slice(eq + 1))
  }
  return values.filter(value => value.trim() !== '')
}

/**
 * What to mask for one secret: the value, and each line of a multi-line
 * value on its own (runners match per line), skipping lines too short to
 * mask without masking everything.
 */
export function maskedParts(secret: string): string[] {
  const parts = secret.length > 0 ? [secret] : []
  for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 4 && line !== secret) parts.push(line)
  return parts
}

export function redact(text: string, secrets: readonly string[]): string {
  const needles = new Set(secrets.flatMap(maskedParts))
  // Longest first, so a secret is not half-replaced by a shorter one inside it.
  let result = text
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) result = result.split(needle).join('***')
  return result
}

/** The snapshot with the text Swarm reports (task errors, update messages) redacted, before anything reads it. */
export function redactSnapshot(snapshot: Snapshot, secrets: readonly string[]): Snapshot {
  const clean = (text: string | undefined): string | undefined => (text === undefined ? undefined : redact(text, secrets))
  return {
    ...snapshot,
    services: snapshot.services.map(s => (s.UpdateStatus ? { ...s, UpdateStatus: { ...s.UpdateStatus, Message: clean(s.UpdateStatus.Message) } } : s)),
    tasks: snapshot.tasks.map(t => ({ ...t, Status: { ...t.Status, Err: clean(t.Status.Err), Message: clean(t.Status.Message) } }))
  }
}

/**
 * The run's secrets. `add` tells the front end (which masks) before the
 * value is kept, so nothing can print a secret it has not been told about.
 */
export class Secrets {
  private readonly values: string[] = []

  constructor(private readonly onSecret: (part: string) => void) {}

  add(value: string): void {
    if (value.trim() === '' || this.values.includes(value)) return
    for (const part of maskedParts(value)) this.onSecret(part)
    this.values.push(value)
  }

  list(): readonly string[] {
    return this.values
  }

  redact(text: string): string {
    return redact(text, this.values)
  }
}

import type { Snapshot } from '../swarm/model.js'

// Text that comes from the swarm (container logs, task errors) may echo a secret back.
// The runner masks registered secrets in the log, but we also print outside
// a runner and into the job summary, so we redact ourselves first.

export function redact(text: string, secrets: string[]): string {
  const needles = new Set<string>()
  for (const secret of secrets) {
    if (secret.length > 0) needles.add(secret)
    for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 4) needles.add(line)
  }
  // Longest first, so a secret is not half-replaced by a shorter one inside it.
  let result = text
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) result = result.split(needle).join('***')
  return result
}

/** The snapshot with the text Swarm reports (task errors, update messages) redacted, before anything reads it. */
export function redactSnapshot(snapshot: Snapshot, secrets: string[]): Snapshot {
  const clean = (text: string | undefined): string | undefined => (text === undefined ? undefined : redact(text, secrets))
  return {
    ...snapshot,
    services: snapshot.services.map(s => (s.UpdateStatus ? { ...s, UpdateStatus: { ...s.UpdateStatus, Message: clean(s.UpdateStatus.Message) } } : s)),
    tasks: snapshot.tasks.map(t => ({ ...t, Status: { ...t.Status, Err: clean(t.Status.Err), Message: clean(t.Status.Message) } }))
  }
}

// Text that comes from the swarm (container logs) may echo a secret back.
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

// The deploy lock of a stack: one swarm config, `<stack>_lock`, whose create
// fails with 409 when it exists. Swarmkit checks the (case-insensitive) name
// and creates the config in one store transaction, which raft commits in
// order, so of two creates of the same name exactly one wins, on any
// manager. Its data says who holds it, since when and until when; it holds
// no secret. Pure: what the lock says, when it has expired, and how a waiter
// paces itself.

/** Marks a config as a stack's deploy lock; the value is the stack. */
export const LOCK_LABEL = 'io.swarm-deploy.lock'
export const HOLDER_LABEL = 'io.swarm-deploy.lock.holder'
export const EXPIRES_LABEL = 'io.swarm-deploy.lock.expires'

/**
 * Beyond the holder's own deadline: what a run still does after it (the
 * diagnostics' bounded log reads, the release record, pruning, GitHub
 * Deployments' 5 s calls) before it lets go.
 */
export const LOCK_MARGIN_MS = 30_000

/** A waiter says again that it is still waiting this often; in between it polls quietly. */
export const REPORT_EVERY_MS = 30_000

export interface LockData {
  format: 1
  stack: string
  /** The run URL (Action) or user@host (CLI). */
  holder: string
  /** ISO times: taken, and when a waiter may take it over. */
  taken: string
  expires: string
  /** Random, per take: tells this run's lock from a later one of the same name. */
  token: string
}

export interface Lock extends LockData {
  /** The swarm config holding it. */
  id: string
}

export function lockName(stack: string): string {
  return `${stack}_lock`
}

export function lockLabels(data: LockData): Record<string, string> {
  return { [LOCK_LABEL]: data.stack, [HOLDER_LABEL]: data.holder, [EXPIRES_LABEL]: data.expires }
}

export function encodeLock(data: LockData): Buffer {
  return Buffer.from(JSON.stringify(data, null, 2) + '\n', 'utf8')
}

/** A stored config back as a lock; undefined for anything else. */
export function decodeLock(config: { id: string; name: string; data: Buffer }): Lock | undefined {
  try {
    const data = JSON.parse(config.data.toString('utf8')) as Partial<LockData>
    if (data.format !== 1 || typeof data.stack !== 'string' || config.name !== lockName(data.stack)) return undefined
    if (typeof data.holder !== 'string' || typeof data.taken !== 'string' || typeof data.expires !== 'string') return undefined
    return { format: 1, stack: data.stack, holder: data.holder, taken: data.taken, expires: data.expires, token: String(data.token ?? ''), id: config.id }
  } catch {
    return undefined
  }
}

/**
 * Who takes the lock: the workflow run's URL when the GitHub run variables
 * are there (the Action, or the CLI inside a job), else user@host.
 */
export function holderOf(env: Readonly<Record<string, string | undefined>>, hostname: string): string {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: runId } = env
  if (server && repository && runId) return `${server}/${repository}/actions/runs/${runId}`
  return `${env.USER || env.LOGNAME || 'unknown'}@${hostname || 'unknown-host'}`
}

/**
 * How long a lock lasts if its holder dies: the longest one deploy can wait
 * (its rollout timeout, plus smoke-timeout with a smoke check), twice with
 * on-failure: rollback-stack, which waits again for the release it puts
 * back, plus the margin.
 */
export function lockTtlMs(roundMs: number, onFailure: 'swarm' | 'rollback-stack'): number {
  return roundMs * (onFailure === 'rollback-stack' ? 2 : 1) + LOCK_MARGIN_MS
}

export function newLock(stack: string, holder: string, now: number, ttlMs: number, token: string): LockData {
  return { format: 1, stack, holder, taken: new Date(now).toISOString(), expires: new Date(now + ttlMs).toISOString(), token }
}

/** The holder's time is up (an expiry that does not parse counts as up: such a lock cannot be ours to respect). */
export function isExpired(lock: Pick<LockData, 'expires'>, now: number): boolean {
  const expires = Date.parse(lock.expires)
  return Number.isNaN(expires) || now >= expires
}

/** "<holder> since <time>", the way every message names a lock. */
export function describeHolder(lock: Pick<LockData, 'holder' | 'taken'>): string {
  return `${lock.holder} since ${lock.taken}`
}

/**
 * How long to sleep before the next try: 1 s, 2 s, 3 s… up to 5 s, never
 * past the waiter's deadline, nor past the moment the lock expires (a few
 * hundred ms after, so that the expiry has passed on this clock).
 */
export function nextPollMs(attempt: number, now: number, deadline: number, expires: number): number {
  const step = Math.min(5_000, 1_000 * (attempt + 1))
  const untilExpiry = Number.isNaN(expires) ? step : Math.max(0, expires - now) + 250
  return Math.max(0, Math.min(step, deadline - now, untilExpiry))
}

/** A waiter prints a line when it first sees a holder, and then every REPORT_EVERY_MS while it waits. */
export function shouldReport(lock: Pick<Lock, 'id'>, last: { id: string; at: number } | undefined, now: number): boolean {
  return last === undefined || last.id !== lock.id || now - last.at >= REPORT_EVERY_MS
}

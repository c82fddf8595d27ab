// The deploy lock of a stack: one swarm config, `<stack>_lock`, whose create
// fails with 409 when it exists. Swarmkit checks the (case-insensitive) name
// and creates the config in one store transaction, which raft commits in
// order, so of two creates of the same name exactly one wins, on any
// manager. Its data says who holds it, since when and until when; it holds
// no secret. Its holder renews it while the run lasts (a label update). Pure:
// what the lock says, when it has expired, and how a waiter paces itself.

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

/**
 * A lock is judged by the swarm's clock, not the runners': the config's
 * UpdatedAt, which a manager stamps when the holder creates the lock and
 * at each renewal (a label update), against the SystemTime a manager gives
 * in /info. Runners' clocks (hosted runners, laptops) are the ones that
 * drift apart, and a waiter whose clock ran ahead would take over a live
 * holder. One swarm's managers keep theirs close, but UpdatedAt is the raft
 * leader's time and SystemTime that of the manager asked: this margin
 * covers the difference, and the time the answers take.
 */
export const SKEW_MARGIN_MS = 30_000

/**
 * A holder renews its lock this often: a quarter of its TTL, at most a
 * minute, so that a few renewals can fail (a tunnel re-dialling a manager)
 * before a waiter may take the lock over.
 */
export function renewEveryMs(ttlMs: number): number {
  return Math.max(1_000, Math.min(60_000, Math.floor(ttlMs / 4)))
}

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
  /** The config's version, which a renewal (a label update) names. */
  version: number
  /** The TTL its holder gave it: its data's expires − taken, both by the holder's clock (NaN if they do not parse). */
  ttlMs: number
  /** When a manager last stamped the config (created or renewed: UpdatedAt), by the swarm's clock; undefined if not told. */
  renewedAt?: number
}

/** A stored config, as far as a lock is read from one. */
export interface LockConfig {
  id: string
  name: string
  data: Buffer
  version?: number
  labels?: Record<string, string>
  /** UpdatedAt, as the API gives it. */
  updatedAt?: string
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

/**
 * A stored config back as a lock; undefined for anything else. `expires` is
 * the renewed expiry of its label when that is later than the one written
 * at the take (for the messages: a takeover goes by `renewedAt`).
 */
export function decodeLock(config: LockConfig): Lock | undefined {
  try {
    const data = JSON.parse(config.data.toString('utf8')) as Partial<LockData>
    if (data.format !== 1 || typeof data.stack !== 'string' || config.name !== lockName(data.stack)) return undefined
    if (typeof data.holder !== 'string' || typeof data.taken !== 'string' || typeof data.expires !== 'string') return undefined
    const renewed = config.labels?.[EXPIRES_LABEL]
    const expires = renewed !== undefined && Date.parse(renewed) > Date.parse(data.expires) ? renewed : data.expires
    const renewedAt = Date.parse(config.updatedAt ?? '')
    return {
      format: 1,
      stack: data.stack,
      holder: data.holder,
      taken: data.taken,
      expires,
      token: String(data.token ?? ''),
      id: config.id,
      version: config.version ?? 0,
      ttlMs: Date.parse(data.expires) - Date.parse(data.taken),
      ...(Number.isNaN(renewedAt) ? {} : { renewedAt })
    }
  } catch {
    return undefined
  }
}

/** The labels of a lock renewed at `now` (the holder's clock): its expiry moved on by its TTL. */
export function renewedLabels(lock: Lock, now: number): Record<string, string> {
  return lockLabels({ ...lock, expires: new Date(now + lock.ttlMs).toISOString() })
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

/**
 * When a waiter may take the lock over: by the swarm's clock (`swarmNow`,
 * /info's SystemTime), once the TTL and SKEW_MARGIN_MS have passed since the
 * lock was last renewed; when the swarm told neither time, by the runner's
 * clock against the expiry written. A lock whose TTL or expiry does not
 * parse has expired: such a lock cannot be ours to respect.
 */
export function takeoverAt(lock: Pick<Lock, 'expires' | 'ttlMs' | 'renewedAt'>, swarmNow: number | undefined): { at: number; clock: 'swarm' | 'runner' } {
  if (lock.renewedAt !== undefined && swarmNow !== undefined) {
    const at = lock.renewedAt + lock.ttlMs + SKEW_MARGIN_MS
    return { at: Number.isNaN(at) ? -Infinity : at, clock: 'swarm' }
  }
  const expires = Date.parse(lock.expires)
  return { at: Number.isNaN(expires) ? -Infinity : expires, clock: 'runner' }
}

/** The holder's time is up: `now` is the runner's clock, `swarmNow` the swarm's when it told it (see takeoverAt). */
export function isExpired(lock: Pick<Lock, 'expires'> & Partial<Pick<Lock, 'ttlMs' | 'renewedAt'>>, now: number, swarmNow?: number): boolean {
  const { at, clock } = takeoverAt({ ttlMs: Number.NaN, ...lock }, swarmNow)
  return (clock === 'swarm' ? swarmNow! : now) >= at
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

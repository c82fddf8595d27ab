// Amazon ECR: a registry `<account>.dkr.ecr.<region>.amazonaws.com` named
// without registry-username gets a token from the AWS SDK, with whatever
// credentials the job configured (OIDC, keys, role). The token works for 12
// hours, and so does the copy Swarm keeps in each service's spec: after that
// a node that must pull again (a task rescheduled after a node failure, a new
// node) fails with "no basic auth credentials" (moby#31063). Every word the
// run says about ECR is here.
import type { CredentialSource, EcrToken, EcrTokenSource, ExpiryNote } from '../../ports.js'
import { hoursFrom, REFRESH_HINT } from '../refresh-schedule.js'

export interface EcrRegistry {
  accountId: string
  region: string
}

/** `123456789012.dkr.ecr.eu-west-1.amazonaws.com` → account and region. */
export function parseEcrRegistry(registry: string): EcrRegistry | undefined {
  const match = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(registry)
  return match ? { accountId: match[1]!, region: match[2]! } : undefined
}

const ECR_TIMEOUT_MS = 30_000

export interface EcrOptions {
  /** Another endpoint than AWS's (tests, VPC endpoints). */
  endpoint?: string
  /** Bounds the whole call: credentials, retries and the request. */
  timeoutMs?: number
}

/** The real adapter (`Adapters.ecrToken`): GetAuthorizationToken with the job's AWS credentials. */
export async function ecrToken(region: string, options: EcrOptions = {}): Promise<EcrToken> {
  const { ECRClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr')
  const timeoutMs = options.timeoutMs ?? ECR_TIMEOUT_MS
  const client = new ECRClient({ region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) })
  const signal = AbortSignal.timeout(timeoutMs)
  // The signal cancels the request; the race also bounds what it may not reach (credential lookups).
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new Error(`ECR GetAuthorizationToken (region ${region}) did not answer within ${timeoutMs / 1000} s`))
    signal.addEventListener('abort', onAbort, { once: true })
  })
  let response
  try {
    response = await Promise.race([client.send(new GetAuthorizationTokenCommand({}), { abortSignal: signal }), aborted])
  } catch (error) {
    if (signal.aborted) await aborted
    throw error
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort)
    aborted.catch(() => undefined)
    client.destroy()
  }
  const data = response.authorizationData?.[0]
  const token = data?.authorizationToken
  if (!token) throw new Error(`ECR returned no authorization token for region ${region}`)
  const [username, password] = Buffer.from(token, 'base64').toString('utf8').split(':', 2)
  if (!username || !password) throw new Error('ECR returned a malformed authorization token')
  const expiresAt = data.expiresAt instanceof Date && !Number.isNaN(data.expiresAt.getTime()) ? data.expiresAt : undefined
  return { username, password, ...(expiresAt ? { expiresAt } : {}) }
}

export const ECR_EXPIRY: ExpiryNote = {
  stored: (registry, expiresAt, now) =>
    `The ECR token for ${registry} stored in the services expires at ${expiresAt.toISOString()} (${hoursFrom(now, expiresAt)}); after that a node that must pull again (a rescheduled task, a new node) fails with "no basic auth credentials": ${REFRESH_HINT}`,
  refreshed: (registry, expiresAt, now) =>
    `The new ECR token for ${registry} expires at ${expiresAt.toISOString()} (${hoursFrom(now, expiresAt)}): refresh again before then (${REFRESH_HINT})`,
  summary: expiresAt =>
    `The registry credential stored in the services (an ECR token) expires at ${expiresAt}. To keep rescheduled tasks and new nodes able to pull after that, ${REFRESH_HINT}.`,
  refreshSummary: expiresAt => `The new ECR token expires at ${expiresAt}: the next scheduled refresh must run before then.`,
  refreshText: expiresAt => `The new ECR token expires at ${expiresAt}.`
}

/** Why a refresh of another registry needs registry-username: only this source logs in with nothing given. */
export const ECR_ONLY = "only ECR gets a token from the job's AWS credentials"

export function isEcrRegistry(registry: string): boolean {
  return parseEcrRegistry(registry) !== undefined
}

/** An ECR registry's login: a fresh token for its region. */
export function ecrSource(tokens: EcrTokenSource): CredentialSource {
  return {
    kind: 'ecr',
    matches: isEcrRegistry,
    login: async registry => ({ registry, ...(await tokens(parseEcrRegistry(registry)!.region)) }),
    expiry: ECR_EXPIRY
  }
}

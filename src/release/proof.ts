// Which release records this project wrote. Anyone with Engine API access can
// create a config with our labels, or change a label; nobody without the
// release key can make the proof label that goes with it: an HMAC-SHA256 over
// the config's name, the stack, the release number, the SHA-256 of the
// config's data (which Swarm never changes) and the status label. A record
// whose proof does not verify is refused: never rolled back to, never the
// live release, never pruned. Pure: no I/O.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { LocalTarget, SshTarget } from '../ports.js'
import { STACK_LABEL } from '../swarm/model.js'
import type { Release, ReleaseData, ReleaseStatus } from './record.js'
import { dataDigest, decodeRelease, RELEASE_LABEL, releaseName, STATUS_LABEL } from './record.js'

export const PROOF_LABEL = 'io.swarm-deploy.release.proof'

const PROOF_VERSION = 'v1'
const KEY_LABEL = 'swarm-deploy release proof v1'

const STATUSES: readonly ReleaseStatus[] = ['deploying', 'converged', 'rolled-back', 'failed', 'timed-out', 'superseded', 'cancelled']

/** The keys of a run: the first signs, every one verifies (release-key rotation). */
export interface ReleaseKeys {
  sign: Buffer | undefined
  verify: Buffer[]
  /** Where they came from, for the messages. */
  source: 'release-key' | 'ssh-key' | 'none'
}

/** A key from secret text: never the text itself, so a proof tells nothing about an SSH key. */
function keyFrom(text: string): Buffer {
  return createHmac('sha256', KEY_LABEL).update(text.replace(/\r\n/g, '\n').trim(), 'utf8').digest()
}

/** No key: records are written without a proof, and none is trusted. */
export const NO_KEYS: ReleaseKeys = { sign: undefined, verify: [], source: 'none' }

/**
 * The release key lines, or else one derived from the SSH key of the target,
 * which only deployers hold and the swarm never sees. With neither (the
 * runner's own engine, no release-key) there is no key.
 */
export function releaseKeysOf(releaseKey: readonly string[], target: SshTarget | LocalTarget): ReleaseKeys {
  if (releaseKey.length > 0) {
    const keys = releaseKey.map(keyFrom)
    return { sign: keys[0], verify: keys, source: 'release-key' }
  }
  if (target.kind === 'ssh') {
    const key = keyFrom(target.privateKey)
    return { sign: key, verify: [key], source: 'ssh-key' }
  }
  return NO_KEYS
}

/** What a proof binds; the data by its digest. */
export interface ProofFields {
  name: string
  stack: string
  number: number
  digest: string
  status: string
}

function mac(key: Buffer, fields: ProofFields): Buffer {
  // A JSON array: no field can run into the next.
  const message = JSON.stringify(['swarm-deploy release', PROOF_VERSION, fields.name, fields.stack, fields.number, fields.digest, fields.status])
  return createHmac('sha256', key).update(message, 'utf8').digest()
}

export function proofOf(key: Buffer, fields: ProofFields): string {
  return `${PROOF_VERSION}.${mac(key, fields).toString('hex')}`
}

export function proofVerifies(proof: string, keys: readonly Buffer[], fields: ProofFields): boolean {
  const match = /^v1\.([0-9a-f]{64})$/.exec(proof)
  if (!match) return false
  const given = Buffer.from(match[1]!, 'hex')
  return keys.some(key => timingSafeEqual(mac(key, fields), given))
}

/** The labels of a record with that status, signed when there is a key. */
export function signedLabels(stack: string, number: number, digest: string, status: ReleaseStatus, sign: Buffer | undefined): Record<string, string> {
  const labels: Record<string, string> = { [STACK_LABEL]: stack, [RELEASE_LABEL]: String(number), [STATUS_LABEL]: status }
  if (sign) labels[PROOF_LABEL] = proofOf(sign, { name: releaseName(stack, number), stack, number, digest, status })
  return labels
}

/** A record this run does not trust: never deployed, never live, never pruned; listed as refused. */
export interface RefusedRecord {
  id: string
  name: string
  /** The number its label claims, if it is one. */
  number: number | undefined
  reason: string
}

type StoredRecord = { id: string; name: string; version: number; labels: Record<string, string>; data: Buffer }

/** The record as a release if this project wrote it as it is, or why not. */
export function trustRecord(config: StoredRecord, stack: string, keys: ReleaseKeys): { release: Release } | { refused: RefusedRecord } {
  const claimed = config.labels[RELEASE_LABEL] ?? ''
  const number = /^[1-9]\d{0,8}$/.test(claimed) ? Number(claimed) : undefined
  const refuse = (reason: string): { refused: RefusedRecord } => ({ refused: { id: config.id, name: config.name, number, reason } })
  if (number === undefined) return refuse('its release label is not a release number')
  if (config.labels[STACK_LABEL] !== stack) return refuse(`it is not labelled as a release of stack ${stack}`)
  if (config.name !== releaseName(stack, number)) return refuse(`its name is not ${releaseName(stack, number)}, the name of release #${number}`)
  let data: ReleaseData & { rollbackTo: number | null; image: string | null }
  try {
    data = JSON.parse(config.data.toString('utf8')) as typeof data
  } catch {
    return refuse('its data is not a release record')
  }
  if (typeof data !== 'object' || data === null || data.format !== 1) return refuse('its data is not a release record this version can read')
  if (data.stack !== stack || data.number !== number) return refuse(`its data is of another release (stack, number) than its name and labels`)
  const status = config.labels[STATUS_LABEL] ?? ''
  if (!(STATUSES as readonly string[]).includes(status)) return refuse('its status label is not a release status')
  const proof = config.labels[PROOF_LABEL]
  if (keys.verify.length === 0) return refuse('this run has no release key to check it with: set release-key')
  if (proof === undefined)
    return refuse('it carries no proof: written by a swarm-deploy from before release proofs, without a release key, or not by swarm-deploy')
  const digest = dataDigest(config.data)
  if (!proofVerifies(proof, keys.verify, { name: config.name, stack, number, digest, status })) {
    return refuse(
      keys.source === 'release-key'
        ? 'its proof matches no line of release-key: written with another key, or changed since it was written'
        : 'its proof does not match the key derived from ssh-key: written with another key (set release-key), or changed since it was written'
    )
  }
  const release = decodeRelease(config)
  if (!release) return refuse('its data is not a release record this version can read')
  return { release }
}

/** Text from the swarm, as data: quoted, without control or format characters, bounded. */
export function quoted(text: string): string {
  const clean = text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '?')
  return JSON.stringify(clean.length > 80 ? `${clean.slice(0, 77)}...` : clean)
}

/** One line per refused record: which config, and why. */
export function refusedLine(record: RefusedRecord): string {
  return `${quoted(record.name)} (config ${quoted(record.id).slice(1, -1)}): ${record.reason}`
}

/**
 * What a run says about trust once it has read the records: that it cannot
 * sign (no key at all), or which records it refused, one line each.
 */
export function trustNotes(keys: ReleaseKeys, refused: readonly RefusedRecord[], dryRun: boolean): string[] {
  if (keys.source === 'none') {
    return dryRun
      ? []
      : [
          'release-key is not set and there is no ssh-key: this release is recorded without a proof, and no rollback (rollback, on-failure: rollback-stack) can trust a record without one. Set release-key.'
        ]
  }
  if (refused.length === 0) return []
  return [
    `Release records this run does not trust (never rolled back to, nor counted as live, nor pruned):\n${refused.map(r => `  ${refusedLine(r)}`).join('\n')}`
  ]
}

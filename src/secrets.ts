// What is secret, and the two things done with it: every front end is told
// to mask it before anything prints, and text from outside (Swarm's task
// errors and update messages, container logs, child output) is redacted by
// us, because we also print outside a runner and into the job summary and
// outputs.
//
// One length policy for both, as Ansible and
// google-github-actions/get-secretmanager-secrets have: a value (or a line of
// one) shorter than MIN_CHARS is neither masked nor redacted, since hiding
// `a` or `3` would shred every word of the log (`unhe***lthy cont***iner`);
// the engine warns once, naming the variable. A value shorter than
// ANYWHERE_CHARS is redacted only where it stands as a word of its own, so
// `prod` hides in `env=prod` but not in `production`; a runner, which can
// only mask substrings, is never told about it. Longer values are hidden
// everywhere, in every encoded form the runner also masks.
import { envJsonValues } from './inputs/env-json.js'
import { smokeUrlSecrets } from './inputs/smoke-inputs.js'
import type { LocalTarget, SshTarget } from './ports.js'
import { INPUTS, kindOf } from './inputs/table.js'
import type { Snapshot } from './swarm/model.js'

/** Inputs whose values are secret (the table's `secret`). A command line must never carry them (the CLI refuses them as flags). */
export const SECRET_INPUTS: readonly string[] = INPUTS.filter(spec => spec.secret).map(spec => spec.name)

/**
 * Inputs whose variables leave the process environment once read: the secret
 * ones, and those only parts of which are secret (smoke-url's userinfo and
 * query values: a URL without them is not, so it may still be a flag).
 */
export const ENV_SECRET_INPUTS: readonly string[] = INPUTS.filter(spec => spec.secret || spec.secretParts).map(spec => spec.name)

/** Shorter than this (in characters): not masked, not redacted. */
export const MIN_CHARS = 4
/** Shorter than this: redacted on word boundaries only, and never given to a runner to mask. */
export const ANYWHERE_CHARS = 8

/** Where a value is hidden: nowhere, where it is a word of its own, or anywhere. */
export type Reach = 'none' | 'words' | 'anywhere'

export function reachOf(part: string): Reach {
  const length = [...part].length
  if (part.trim() === '' || length < MIN_CHARS) return 'none'
  return length < ANYWHERE_CHARS ? 'words' : 'anywhere'
}

/** A secret from the raw inputs and what it is called in a warning. */
export interface NamedSecret {
  name: string
  value: string
}

/** Values that must be masked before anything is printed, from the raw inputs, with the name a warning would give. */
export function secretsOf(read: (name: string) => string): NamedSecret[] {
  const values: NamedSecret[] = []
  for (const spec of INPUTS) {
    const raw = read(spec.name)
    if (spec.secretParts === 'url') {
      // A URL's userinfo and query values, before anything parses the URL.
      for (const { value } of smokeUrlSecrets(raw)) values.push({ name: spec.name, value })
    } else if (spec.name === 'env' && envJsonValues(raw).length > 0) {
      // `${{ toJSON(secrets) }}`: most of its names are never used, so none is named in a warning.
      for (const value of envJsonValues(raw)) values.push({ name: spec.name, value })
    } else if (spec.secret && kindOf(spec) === 'map') {
      // Parsing can fail later; mask every `=`-value it might hold regardless.
      for (const line of raw.split(/\r?\n/)) {
        const eq = line.indexOf('=')
        if (eq >= 0) values.push({ name: `${spec.name} ${line.slice(0, eq).trim()}`, value: line.slice(eq + 1) })
      }
    } else if (spec.secret) values.push({ name: spec.name, value: raw })
  }
  return values.filter(secret => secret.value.trim() !== '')
}

/** The value, and each line of a multi-line value on its own (runners match per line), each with its reach; none of reach `none`. */
export function partsOf(secret: string): Array<{ text: string; reach: Reach }> {
  const texts = new Set([secret, ...secret.split(/\r?\n/)])
  return [...texts].map(text => ({ text, reach: reachOf(text) })).filter(part => part.reach !== 'none')
}

/** What a runner is told to mask (`::add-mask::`): the parts it may hide anywhere. It adds the encoded forms itself. */
export function maskedParts(secret: string): string[] {
  return partsOf(secret)
    .filter(part => part.reach === 'anywhere')
    .map(part => part.text)
}

/** Whole value too short to hide: the engine warns about it. */
export function tooShort(secret: string): boolean {
  return secret.trim() !== '' && reachOf(secret) === 'none'
}

// JSON's and Go's quoting of a string, without the quotes. Go's encoding/json
// also escapes <, > and & (and U+2028/9) for HTML; strconv.Quote (%q in the
// Engine's and the CLI's error messages) escapes every rune that is not
// printable by unicode.IsPrint, and %+q (QuoteToASCII) every non-ASCII one.
const hex = (code: number, width: number): string => code.toString(16).padStart(width, '0')

function jsonQuoted(value: string): string {
  return JSON.stringify(value).slice(1, -1)
}

function goJsonQuoted(value: string): string {
  return jsonQuoted(value).replace(/[<>&\u2028\u2029]/g, c => `\\u${hex(c.charCodeAt(0), 4)}`)
}

const GO_SHORT: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\'
}

// unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII
// space; so U+00A0, U+200B, U+FEFF and the soft hyphen are escaped.
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u

/**
 * Go's strconv.Quote (`asciiOnly`: QuoteToASCII) without the quotes, as
 * quote.go's appendEscapedRune writes each rune. A JS string holds no
 * invalid UTF-8, so Go's `\xff` for a bad byte has no counterpart here.
 */
export function goQuoted(value: string, asciiOnly: boolean): string {
  let out = ''
  for (const c of value) {
    const code = c.codePointAt(0)!
    const short = GO_SHORT[c]
    if (short) out += short
    else if (asciiOnly ? code < 0x80 && GO_PRINTABLE.test(c) : GO_PRINTABLE.test(c)) out += c
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`
    else if (code < 0x10000) out += `\\u${hex(code, 4)}`
    else out += `\\U${hex(code, 8)}`
  }
  return out
}

/** RFC 3986 percent-encoding (what .NET's Uri.EscapeDataString and Go's url.PathEscape of a segment give), optionally `+` for spaces (query strings). */
function percentEncoded(value: string, spaceAsPlus: boolean): string {
  const strict = encodeURIComponent(value).replace(/[!'()*]/g, c => `%${hex(c.charCodeAt(0), 2).toUpperCase()}`)
  return spaceAsPlus ? strict.replace(/%20/g, '+') : strict
}

/**
 * The base64 text a value gives wherever it starts in a longer base64 stream
 * (`user:password`, a docker config's `auth`): for each of the three byte
 * offsets, the characters that depend on the value's bytes alone.
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8')
  const forms = [bytes.toString('base64')]
  for (let shift = 0; shift < 3; shift++) {
    const text = Buffer.concat([Buffer.alloc(shift), bytes])
      .toString('base64')
      .replace(/=+$/, '')
    const start = Math.ceil((8 * shift) / 6)
    const end = Math.floor((8 * (shift + bytes.length)) / 6)
    forms.push(text.slice(start, end))
  }
  return forms
}

/** Every form in which a part is hidden: as it is, JSON- and Go-quoted, percent-encoded, base64. */
export function encodedForms(part: string): string[] {
  const forms = [
    part,
    jsonQuoted(part),
    goJsonQuoted(part),
    goQuoted(part, false),
    goQuoted(part, true),
    encodeURIComponent(part),
    percentEncoded(part, false),
    percentEncoded(part, true),
    ...base64Forms(part)
  ]
  return [...new Set(forms)].filter(form => [...form].length >= MIN_CHARS)
}

interface Needle {
  text: string
  words: boolean
}

const WORD = /[\p{L}\p{N}_]/u
const isWord = (c: string | undefined): boolean => c !== undefined && WORD.test(c)

/** The code point before `index` and the one at `index`. */
function before(text: string, index: number): string | undefined {
  if (index === 0) return undefined
  const low = text.charCodeAt(index - 1)
  return low >= 0xdc00 && low <= 0xdfff && index >= 2 ? text.slice(index - 2, index) : text[index - 1]
}

function after(text: string, index: number): string | undefined {
  return index >= text.length ? undefined : String.fromCodePoint(text.codePointAt(index)!)
}

/** Replaces the needle where it is not part of a longer word: no letter, digit or `_` right before or after it. */
function replaceWords(text: string, needle: string): string {
  const first = isWord(String.fromCodePoint(needle.codePointAt(0)!))
  const last = isWord(before(needle, needle.length))
  let result = ''
  let from = 0
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    if (at < from) continue
    const end = at + needle.length
    if ((first && isWord(before(text, at))) || (last && isWord(after(text, end)))) continue
    result += text.slice(from, at) + '***'
    from = end
  }
  return result + text.slice(from)
}

/** Text with secrets replaced by ***, by the length policy. Used by the engine and by every reporter. */
export class Redactor {
  private readonly secrets = new Set<string>()
  private needles: Needle[] = []

  /** Hide this value too (its parts too short to hide are left). */
  add(secret: string): void {
    if (this.secrets.has(secret)) return
    this.secrets.add(secret)
    const known = new Map(this.needles.map(n => [n.text, n]))
    for (const part of partsOf(secret)) {
      for (const text of encodedForms(part.text)) {
        const words = part.reach === 'words'
        const seen = known.get(text)
        // Anywhere wins over words when two secrets share a form.
        if (seen) seen.words &&= words
        else known.set(text, { text, words })
      }
    }
    // Longest first, so a secret is not half-replaced by a shorter one inside it.
    this.needles = [...known.values()].sort((a, b) => b.text.length - a.text.length)
  }

  has(secret: string): boolean {
    return this.secrets.has(secret)
  }

  values(): readonly string[] {
    return [...this.secrets]
  }

  /** Only the word-bound secrets: what a runner that masks the others itself still leaves visible. */
  redactWords(text: string): string {
    return this.apply(text, true)
  }

  redact(text: string): string {
    return this.apply(text, false)
  }

  private apply(text: string, wordsOnly: boolean): string {
    let result = text
    for (const needle of this.needles) {
      if (wordsOnly && !needle.words) continue
      if (!result.includes(needle.text)) continue
      result = needle.words ? replaceWords(result, needle.text) : result.split(needle.text).join('***')
    }
    return result
  }
}

/** A one-off redaction by the same policy. */
export function redact(text: string, secrets: readonly string[]): string {
  const redactor = new Redactor()
  for (const secret of secrets) redactor.add(secret)
  return redactor.redact(text)
}

/** Every string in a JSON-like value redacted, keys aside. */
export function redactStrings<T>(value: T, clean: (text: string) => string): T {
  if (typeof value === 'string') return clean(value) as T
  if (Array.isArray(value)) return value.map(item => redactStrings(item, clean)) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactStrings(item, clean)])) as T
  }
  return value
}

/** The snapshot with the text Swarm reports (task errors, update messages) redacted, before anything reads it. */
export function redactSnapshot(snapshot: Snapshot, clean: ((text: string) => string) | readonly string[]): Snapshot {
  const fn = typeof clean === 'function' ? clean : (text: string): string => redact(text, clean)
  const text = (value: string | undefined): string | undefined => (value === undefined ? undefined : fn(value))
  return {
    ...snapshot,
    services: snapshot.services.map(s => (s.UpdateStatus ? { ...s, UpdateStatus: { ...s.UpdateStatus, Message: text(s.UpdateStatus.Message) } } : s)),
    tasks: snapshot.tasks.map(t => ({ ...t, Status: { ...t.Status, Err: text(t.Status.Err), Message: text(t.Status.Message) } }))
  }
}

/**
 * The run's secrets. `add` tells the front end (which masks) before the
 * value is kept, so nothing can print a secret it has not been told about;
 * a value too short to hide is not kept, and the front end is warned once,
 * by the value's name, never the value.
 */
/** Registers what reaching the swarm and the registry takes: the SSH keys, a key's passphrase, the registry password. */
export function addConnectionSecrets(
  secrets: Pick<Secrets, 'add'>,
  target: SshTarget | LocalTarget,
  registry: { username?: string; password?: string } | undefined
): void {
  if (target.kind === 'ssh') {
    secrets.add(target.privateKey, 'ssh-key')
    if (target.passphrase !== undefined) secrets.add(target.passphrase, 'ssh-key-passphrase')
    if (target.jump) secrets.add(target.jump.privateKey, 'jump-ssh-key')
  }
  if (registry?.username !== undefined && registry.password !== undefined) secrets.add(registry.password, 'registry-password')
}

export class Secrets {
  private readonly redactor = new Redactor()
  private readonly warned = new Set<string>()

  constructor(private readonly front: { secret(value: string): void; warn(line: string): void }) {}

  add(value: string, name?: string): void {
    if (value.trim() === '' || this.redactor.has(value)) return
    if (tooShort(value)) {
      if (name !== undefined && !this.warned.has(name)) {
        this.warned.add(name)
        this.front.warn(
          `${name}: the value is shorter than ${MIN_CHARS} characters, so it is neither masked nor redacted (hiding it would hide those characters in every word of the log). A secret that short is guessable: use a longer one.`
        )
      }
      return
    }
    this.front.secret(value)
    this.redactor.add(value)
  }

  list(): readonly string[] {
    return this.redactor.values()
  }

  redact(text: string): string {
    return this.redactor.redact(text)
  }
}

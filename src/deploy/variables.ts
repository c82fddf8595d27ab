// Finds the `${VAR}` references in compose files so a deploy can be refused
// before `docker stack deploy` runs: for a missing variable it only warns and
// substitutes an empty string, so a missing secret would become an empty
// password. Pure text in, data out; errors name the file, line and variable,
// never a value.
//
// Syntax follows the compose spec: `$$` is a literal `$`; `$NAME`, `${NAME}`,
// `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}`, `${NAME?message}`,
// `${NAME:+alternate}`, `${NAME+alternate}`, with references nested in the
// text after the operator. The docker CLI's stack loader (28.x) rejects the
// alternate forms and does not expand nested references, so checkVariables
// refuses both. Any other `$` is invalid: docker stack deploy fails
// with "invalid interpolation format" on `$1`, a trailing `$`, `${}`, `${1X}`
// or an unterminated `${X`.
//
// A service's `environment:` entry with a name and no value is a reference
// too: docker fills it from its own environment (findBareEnvironment, which
// parses the YAML).
//
// Docker interpolates YAML string values after parsing, so comments are never
// interpolated. findVariables is a line scanner, not a YAML parser; its limits:
// - `#` starts a comment at line start or after whitespace, outside quotes.
//   A quote opens only where a scalar can start, and may span lines.
// - Lines after a `|` or `>` block indicator that are indented deeper than the
//   indicator's line are block content: `#` there is text, not a comment.
// - Keys are scanned like values (docker does not interpolate keys), and a
//   reference must end on the line it starts on.
// Each limit errs towards reporting a reference docker would not use.

import * as YAML from 'yaml'
import { keyText, mergedGet, mergedPairs, parsedCompose, unaliased } from './compose-yaml.js'

export interface VariableRef {
  /** '' for an invalid reference (see checkVariables). */
  name: string
  /** The compose file it appears in, as given. */
  file: string
  /** 1-based. */
  line: number
  /** 1-based, in characters (code points), of the `$`. */
  column: number
  /**
   * plain: $X or ${X}; default: ${X:-d} / ${X-d}; required: ${X:?msg} / ${X?msg}; alternate: ${X:+v} / ${X+v};
   * bare: an `environment:` entry with a name and no value, which docker fills from its own environment.
   */
  form: 'plain' | 'default' | 'required' | 'alternate' | 'bare'
  /** True for the colon forms (:- :? :+), which also treat an empty value as unset. */
  colon: boolean
  /** The text after `?` for required forms, as written ('' when there is none). */
  message?: string
  /** For a reference inside another's default, alternate or message text: that reference. */
  outer?: VariableRef
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y
const OPERATOR = /(:?)([-?+])/y
const FORMS = { '-': 'default', '?': 'required', '+': 'alternate' } as const

interface Line {
  text: string
  file: string
  line: number
}

export function findVariables(text: string, file: string): VariableRef[] {
  const refs: VariableRef[] = []
  let quote: Quote
  let blockParent: number | undefined // indentation of the line with `|` or `>`
  let blockIndent: number | undefined // indentation of the block's first line
  text.split('\n').forEach((raw, index) => {
    const content = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    const line: Line = { text: content, file, line: index + 1 }
    const indent = /^ */.exec(content)![0].length
    if (blockParent !== undefined) {
      const blank = content.trim() === ''
      if (blockIndent === undefined && !blank && indent > blockParent) blockIndent = indent
      if (blank || (blockIndent !== undefined && indent >= blockIndent)) {
        scan(line, 0, false, refs, undefined)
        return
      }
      blockParent = blockIndent = undefined
    }
    const code = stripComment(content, quote)
    quote = code.quote
    scan({ ...line, text: code.text }, 0, false, refs, undefined)
    if (quote === undefined && /(?:^|[\s:,[{-])[|>][1-9+-]*$/.test(code.text.trimEnd())) blockParent = indent
  })
  return refs
}

/** A service's `environment:` entry: a name with no value, which docker fills from its own environment, or a value's text. */
interface EnvironmentEntry {
  service: string
  node: YAML.Node
  bare?: string
  value?: string
}

/**
 * Every service's `environment:` entries, as docker's loader reads them:
 * YAML 1.1 merge keys resolved (a service from `<<: *common`, entries from
 * `<<: *env`), aliases followed. Needs the YAML to parse; a file that does
 * not is left to docker to refuse.
 */
function environmentEntries(text: string): EnvironmentEntry[] {
  const { doc } = parsedCompose(text)
  const entries: EnvironmentEntry[] = []
  if (doc.errors.length > 0) return entries
  const services = mergedGet(doc, doc.contents, 'services')
  if (!YAML.isMap(services)) return entries
  for (const pair of mergedPairs(doc, services)) {
    const service = keyText(pair.key)
    const environment = mergedGet(doc, pair.value, 'environment')
    if (YAML.isSeq(environment)) {
      for (const item of environment.items) {
        const entry = unaliased(doc, item)
        if (!YAML.isScalar(entry) || typeof entry.value !== 'string') continue
        const bare = !entry.value.includes('=') && !entry.value.includes('$')
        entries.push(bare ? { service, node: entry, bare: entry.value } : { service, node: entry, value: entry.value })
      }
    } else if (YAML.isMap(environment)) {
      for (const { key, value: raw } of mergedPairs(doc, environment)) {
        const value = unaliased(doc, raw)
        if ((value === null || (YAML.isScalar(value) && value.value === null)) && YAML.isScalar(key)) entries.push({ service, node: key, bare: keyText(key) })
        else if (YAML.isScalar(value) && typeof value.value === 'string') entries.push({ service, node: value, value: value.value })
      }
    }
  }
  return entries
}

/**
 * `environment:` entries of services that have a name and no value
 * (`- JWT_SECRET`, `JWT_SECRET:`, `JWT_SECRET: ~`): docker takes their value
 * from its own environment, so they are references too.
 */
export function findBareEnvironment(text: string, file: string): VariableRef[] {
  const { lines } = parsedCompose(text)
  return environmentEntries(text).flatMap(({ bare, node }) => {
    if (bare === undefined) return []
    const { line, col } = lines.linePos(node.range?.[0] ?? 0)
    return [{ name: bare, file, line, column: col, form: 'bare' as const, colon: false }]
  })
}

/** A variable whose value ends up in a service's `environment:`, and the service. */
export interface EnvironmentUse {
  name: string
  service: string
  file: string
  line: number
}

/**
 * The variables whose values land in services' `environment:` entries:
 * referenced in an entry's value (`DB_PASSWORD: ${DB_PASSWORD}`,
 * `- DB=${DB_PASSWORD}`) or named bare (`- DB_PASSWORD`), which docker fills
 * from its environment. Such values are in the service spec, the task
 * records and every container's config, in plain text.
 */
export function findEnvironmentUses(text: string, file: string): EnvironmentUse[] {
  const { lines } = parsedCompose(text)
  return environmentEntries(text).flatMap(({ service, node, bare, value }) => {
    const line = lines.linePos(node.range?.[0] ?? 0).line
    const names = bare !== undefined ? [bare] : findVariables(value ?? '', file).flatMap(ref => (ref.name !== '' && !ref.outer ? [ref.name] : []))
    return names.map(name => ({ name, service, file, line }))
  })
}

type Quote = '"' | "'" | undefined

/** The line without its comment, and the quote still open at its end. */
function stripComment(text: string, open: Quote): { text: string; quote: Quote } {
  let quote = open
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quote === '"') {
      if (c === '\\') i++
      else if (c === '"') quote = undefined
    } else if (quote === "'") {
      if (c === "'" && text[i + 1] === "'")
        i++ // '' is an escaped quote
      else if (c === "'") quote = undefined
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      return { text: text.slice(0, i), quote }
    } else if ((c === '"' || c === "'") && startsScalar(text, i)) {
      quote = c
    }
  }
  return { text, quote }
}

// A quote is only a delimiter where a scalar begins (`key: "x"`, `- 'x'`,
// `["x"]`); inside a plain scalar (`it's`, `say "hi"`) it is a character.
function startsScalar(text: string, i: number): boolean {
  const before = text.slice(0, i)
  if (before !== '' && !/[\s[{,]$/.test(before)) return false
  const previous = before.trimEnd()
  return previous === '' || /[:\-?[{,]$/.test(previous)
}

/**
 * Scans from `i` and returns where it stopped: at the end of the text, or
 * (when `nested`) at the `}` that closes the enclosing reference.
 */
function scan(line: Line, i: number, nested: boolean, refs: VariableRef[], outer: VariableRef | undefined): number {
  const text = line.text
  while (i < text.length) {
    const c = text[i]
    if (nested && c === '}') return i
    if (c !== '$') {
      i++
    } else if (text[i + 1] === '$') {
      i += 2
    } else if (text[i + 1] === '{') {
      i = braced(line, i, refs, outer)
    } else {
      const name = match(NAME, text, i + 1)
      refs.push(name ? ref(line, i, name[0], 'plain', false, outer) : ref(line, i, '', 'plain', false, undefined))
      i += 1 + (name ? name[0].length : 0)
    }
  }
  return i
}

/** `${...}` at `i`; returns the index after it, or after `${` when invalid. */
function braced(line: Line, i: number, refs: VariableRef[], outer: VariableRef | undefined): number {
  const text = line.text
  const name = match(NAME, text, i + 2)
  let end = i + 2 + (name ? name[0].length : 0)
  if (name && text[end] === '}') {
    refs.push(ref(line, i, name[0], 'plain', false, outer))
    return end + 1
  }
  const operator = name && match(OPERATOR, text, end)
  if (operator) {
    const form = FORMS[operator[2] as keyof typeof FORMS]
    const found = ref(line, i, name[0], form, operator[1] === ':', outer)
    const inner: VariableRef[] = []
    const start = end + operator[0].length
    end = scan(line, start, true, inner, found)
    if (end < text.length) {
      if (form === 'required') found.message = text.slice(start, end)
      refs.push(found, ...inner)
      return end + 1
    }
  }
  refs.push(ref(line, i, '', 'plain', false, undefined))
  return i + 2
}

function match(pattern: RegExp, text: string, at: number): RegExpExecArray | null {
  pattern.lastIndex = at
  return pattern.exec(text)
}

function ref(line: Line, at: number, name: string, form: VariableRef['form'], colon: boolean, outer: VariableRef | undefined): VariableRef {
  const found: VariableRef = { name, file: line.file, line: line.line, column: [...line.text.slice(0, at)].length + 1, form, colon }
  if (outer) found.outer = outer
  return found
}

/**
 * Error sentences for references docker would fill with nothing, or fail on;
 * empty when all is well. `values` holds every variable the deploy will have
 * (a value of '' is set). One error per variable per file, at its first
 * failing line, in the order the files first appear in `refs`, then by line.
 *
 * A reference nested in a default or alternate is always an error: the
 * docker CLI's stack loader (checked with 28.2) does not expand it and would
 * deploy the text `${B}` literally. In a required message it is just text.
 */
export function checkVariables(refs: VariableRef[], values: ReadonlyMap<string, string>): string[] {
  const files = [...new Set(refs.map(r => r.file))]
  const sorted = [...refs].sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line || a.column - b.column)
  const isSet = (r: VariableRef): boolean => {
    const value = values.get(r.name)
    return value !== undefined && !(r.colon && value === '')
  }
  const reported = new Set<string>()
  const errors: string[] = []
  for (const r of sorted) {
    const error = problem(r, values, isSet)
    const key = r.name === '' ? `${r.file}\n${r.line}\n` : `${r.file}\n\n${r.name}`
    if (error === undefined || reported.has(key)) continue
    reported.add(key)
    errors.push(error)
  }
  return errors
}

/** Where a missing value can be given: the ways a user of `docker compose` expects, .env included. */
export const GIVE_A_VALUE = 'to the env input, to env-file or to .env beside the compose file'

function problem(r: VariableRef, values: ReadonlyMap<string, string>, isSet: (r: VariableRef) => boolean): string | undefined {
  const where = `compose-file: ${r.file} line ${r.line}`
  if (r.name === '') {
    return `${where} column ${r.column}: invalid interpolation: use $NAME, \${NAME}, \${NAME:-default} or \${NAME:?message}, and write $$ for a literal $`
  }
  if (r.form === 'alternate') {
    return `${where}: \${${r.name}${r.colon ? ':' : ''}+…} is not supported by docker stack deploy (it fails with "invalid interpolation format"): use \${${r.name}:-default} or set the value in the env input`
  }
  const outer = r.outer
  if (outer && outer.form !== 'required') {
    const part = outer.form === 'default' ? 'default' : 'alternate value'
    return `${where}: \${${r.name}} sits in the ${part} of \${${outer.name}}, and docker stack deploy does not expand nested references (it would deploy the text literally): set ${outer.name} in the env input instead`
  }
  // Inside a required message a reference is only text.
  if (outer) return undefined
  if (r.form === 'bare') {
    return values.has(r.name)
      ? undefined
      : `${where}: environment entry ${r.name} has no value, so docker would fill it from its own environment, where ${r.name} is not set: add ${r.name}=… ${GIVE_A_VALUE}, or write ${r.name}=value`
  }
  if (r.form === 'plain' && !values.has(r.name)) {
    return `${where} uses \${${r.name}}, which is not set: add ${r.name}=… ${GIVE_A_VALUE}, or give a default like \${${r.name}:-value}`
  }
  if (r.form === 'required' && !isSet(r)) {
    return `${where}: \${${r.name}} is required${r.message ? `: ${r.message}` : ''}`
  }
  return undefined
}

// `.env` beside the first compose file, which `docker compose` reads for
// interpolation and `docker stack deploy` does not. Its values are not
// secret (it is committed, or made by an earlier step for that reason);
// they are read as data, never sourced, in the forms of compose's own
// dotenv reader that a value can be written in without a shell: KEY=VALUE,
// `export KEY=VALUE`, a `#` comment line or ` #` after an unquoted value,
// 'single quotes' as written and "double quotes" with \n, \t, \\ and \".
// What only a shell would read the same way (a reference to another
// variable, a quote left open) is refused by line number.
import * as path from 'node:path'
import { ENV_KEY, InputError } from './parse.js'

/** The `.env` that docker compose reads for these compose files: in the first file's folder. */
export function dotenvPath(composeFiles: readonly string[]): string | undefined {
  const first = composeFiles[0]
  return first === undefined ? undefined : path.join(path.dirname(first), '.env')
}

const DOUBLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', $: '$' }

/** The variables of a `.env` text. `file` names it in errors, which cite line numbers. */
export function parseDotenv(file: string, text: string): Map<string, string> {
  const values = new Map<string, string>()
  text.split(/\r?\n/).forEach((raw, index) => {
    const fail = (why: string): never => {
      throw new InputError('compose-file', `${file} line ${index + 1}: ${why}`)
    }
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const body = line.replace(/^export\s+/, '')
    const eq = body.indexOf('=')
    if (eq < 0) fail("has no '=': each line must be KEY=VALUE")
    const key = body.slice(0, eq).trim()
    if (!ENV_KEY.test(key)) fail("the name before '=' is not valid: use letters, digits and '_', not starting with a digit")
    values.set(key, dotenvValue(body.slice(eq + 1).trim(), fail))
  })
  return values
}

function dotenvValue(text: string, fail: (why: string) => never): string {
  const quote = text[0]
  if (quote === "'" || quote === '"') {
    const end = text.indexOf(quote, 1)
    // An escaped double quote does not close the value.
    let close = end
    while (quote === '"' && close > 0 && text[close - 1] === '\\') close = text.indexOf('"', close + 1)
    if (close < 0) fail('a quoted value must end on its line (multi-line values are not read)')
    const rest = text.slice(close + 1).trim()
    if (rest !== '' && !rest.startsWith('#')) fail('has text after the closing quote')
    const inner = text.slice(1, close)
    if (quote === "'") return inner
    if (/\$(?!\$)/.test(inner.replace(/\\\$/g, ''))) fail('refers to another variable ($), which is not expanded here: write the value, or escape it as \\$')
    return inner.replace(/\\(.)/g, (all, c: string) => DOUBLE_ESCAPES[c] ?? all)
  }
  const value = text.replace(/\s+#.*$/, '')
  if (value.includes('$')) fail("refers to another variable ($), which is not expanded here: write the value, or quote it in 'single quotes'")
  return value
}

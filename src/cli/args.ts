// The CLI's command line: every input of the Action as a flag of the same
// name, an environment variable SWARM_DEPLOY_<NAME>, or a key of --config.
// The result is the same `read(name)` the Action gets from the runner, so
// the same parser checks it and gives the same messages. Pure.
import { parseArgs } from 'node:util'
import * as YAML from 'yaml'
import { InputError } from '../inputs/parse.js'
import { smokeUrlSecrets } from '../inputs/smoke-inputs.js'
import type { InputSpec } from '../inputs/table.js'
import { INPUTS, isInputName, kindOf, OUTPUTS, repeatable } from '../inputs/table.js'

export interface CommandLine {
  read: (name: string) => string
  json: boolean
  verbose: boolean
  help: boolean
}

/** A command line the CLI cannot use (not an input's value): exit 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

// `--X-file FILE` flags the CLI reads itself, to the input they give: a file
// form that is an input of its own (env-file) reads its file in getInputs.
const FILE_FLAGS: Readonly<Record<string, string>> = Object.fromEntries(
  INPUTS.filter(spec => spec.file !== undefined && !isInputName(spec.file)).map(spec => [spec.file!, spec.name])
)
const BOOLEAN = new Set(INPUTS.filter(spec => kindOf(spec) === 'boolean').map(spec => spec.name))
const OWN_FLAGS = { config: 'string', json: 'boolean', verbose: 'boolean', help: 'boolean' } as const

export function envName(input: string): string {
  return `SWARM_DEPLOY_${input.toUpperCase().replace(/-/g, '_')}`
}

function refusal(spec: InputSpec, where: string): InputError {
  const file = isInputName(spec.file!) ? `--${spec.file} FILE (KEY=VALUE lines)` : `--${spec.file} FILE`
  return new InputError(
    spec.name,
    `is refused ${where}: a secret there lands in shell history, ps or a committed file. Give it in ${envName(spec.name)} or with ${file}`
  )
}

/** `--prune` alone means true, `--no-prune` false; `--prune false` still works. */
function normalizeBooleans(argv: string[]): string[] {
  const result: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!
    const name = token.slice(2)
    if (token.startsWith('--no-') && BOOLEAN.has(token.slice(5))) result.push(`--${token.slice(5)}=false`)
    else if (token.startsWith('--') && BOOLEAN.has(name) && !/^(true|false|yes|no|1|0)$/i.test(argv[i + 1] ?? '')) result.push(`${token}=true`)
    else result.push(token)
  }
  return result
}

export interface Sources {
  env: Readonly<Record<string, string | undefined>>
  /** A file's text, or undefined when it cannot be read. */
  readFile: (path: string) => string | undefined
}

export function parseCommandLine(argv: string[], sources: Sources): CommandLine {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {}
  for (const spec of INPUTS) options[spec.name] = { type: 'string', multiple: true }
  for (const flag of Object.keys(FILE_FLAGS)) options[flag] = { type: 'string', multiple: true }
  for (const [flag, type] of Object.entries(OWN_FLAGS)) options[flag] = { type }
  const { values, tokens } = parseArgs({ args: normalizeBooleans(argv), options, strict: false, allowPositionals: true, tokens: true })
  tokens.forEach((token, index) => {
    // Never quote an argument back: it might be a secret typed in the wrong place.
    if (token.kind === 'positional') throw new UsageError(`unexpected argument #${index + 1}: every value follows its --flag (see --help)`)
    if (token.kind === 'option' && !(token.name in options)) throw new UsageError(`unknown option --${token.name} (see --help)`)
    if (token.kind === 'option' && options[token.name]!.type === 'string' && token.value === undefined) throw new UsageError(`--${token.name} needs a value`)
  })

  const flag = (name: string): string[] => (values[name] as string[] | undefined) ?? []
  const config = typeof values.config === 'string' ? readConfig(values.config, sources) : {}

  const resolved = new Map<string, string>()
  for (const spec of INPUTS) {
    const given = flag(spec.name)
    if (given.length > 0 && spec.secret) throw refusal(spec, 'as a command-line flag')
    if (given.length > 1 && !repeatable(spec)) throw new InputError(spec.name, 'is given more than once')
    // A smoke URL's userinfo and query values are secret: not in shell history or ps either.
    if (spec.secretParts === 'url' && given.some(value => smokeUrlSecrets(value).length > 0))
      throw new InputError(spec.name, `a URL with a user, password or query is refused as a command-line flag: give it in ${envName(spec.name)}`)
    const fileFlag = spec.file !== undefined && spec.file in FILE_FLAGS ? spec.file : undefined
    const files = fileFlag ? flag(fileFlag) : []
    if (files.length > 1) throw new InputError(fileFlag!, 'is given more than once')
    let value: string | undefined
    if (given.length > 0) value = given.join('\n')
    else if (files.length === 1) {
      value = sources.readFile(files[0]!)
      if (value === undefined) throw new InputError(fileFlag!, `'${files[0]}' cannot be read`)
    } else if (sources.env[envName(spec.name)] !== undefined) value = sources.env[envName(spec.name)]
    else if (spec.name in config) value = config[spec.name]
    resolved.set(spec.name, value ?? spec.default ?? '')
  }
  return {
    read: name => resolved.get(name) ?? '',
    json: values.json === true,
    verbose: values.verbose === true,
    help: values.help === true
  }
}

/** `--config deploy.yml`: a map of input names to values (a list for several lines). */
function readConfig(file: string, sources: Sources): Record<string, string> {
  const text = sources.readFile(file)
  if (text === undefined) throw new UsageError(`--config: '${file}' cannot be read`)
  let doc: unknown
  try {
    doc = YAML.parse(text)
  } catch (error) {
    throw new UsageError(`--config: ${file} is not YAML: ${(error as Error).message.split('\n')[0]}`)
  }
  if (doc === null || doc === undefined) return {}
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`--config: ${file} must be a map of input names to values`)
  const result: Record<string, string> = {}
  for (const [key, raw] of Object.entries(doc as Record<string, unknown>)) {
    const spec = INPUTS.find(s => s.name === key)
    if (!spec) throw new UsageError(`--config: ${file} has '${key}', which is not an input (see --help)`)
    if (spec.secret) throw refusal(spec, `in --config ${file}`)
    const items = Array.isArray(raw) ? raw : [raw]
    if (items.length > 1 && !repeatable(spec)) throw new InputError(key, `takes one value in --config ${file}, not a list`)
    if (items.some(item => item !== null && typeof item === 'object'))
      throw new InputError(key, `in --config ${file} must be text, a number, a boolean or a list of them`)
    result[key] = items.map(item => String(item ?? '')).join('\n')
    if (spec.secretParts === 'url' && smokeUrlSecrets(result[key]).length > 0)
      throw new InputError(key, `a URL with a user, password or query is refused in --config ${file}, a file that gets committed: give it in ${envName(key)}`)
  }
  return result
}

export function helpText(): string {
  const rows: Array<[string, string]> = []
  for (const spec of INPUTS) {
    if (spec.secret) {
      const ownInput = isInputName(spec.file!)
      if (!ownInput) rows.push([`--${spec.file} FILE`, `${spec.name} from a file. ${spec.description}`])
      rows.push([`  (${envName(spec.name)})`, `${spec.name}: not a flag, it is secret.${ownInput ? ` ${spec.description}` : ''}`])
      continue
    }
    const value = BOOLEAN.has(spec.name) ? '[true|false]' : 'VALUE'
    const notes = [
      spec.required ? 'Required.' : '',
      repeatable(spec) ? 'Repeat for several.' : '',
      spec.default !== undefined ? `Default: ${spec.default}.` : ''
    ]
      .filter(Boolean)
      .join(' ')
    rows.push([`--${spec.name} ${value}`, `${spec.description}${notes ? ` ${notes}` : ''}`])
    if (spec.file !== undefined) rows.push([`--${spec.file} FILE`, `${spec.name} from a file.`])
  }
  const width = Math.max(...rows.map(([left]) => left.length)) + 2
  return [
    'Usage: swarm-deploy --stack NAME [--flag VALUE ...] [--config deploy.yml] [--json]',
    '',
    'Build, push and deploy a compose stack to Docker Swarm over SSH, and wait for a verified verdict.',
    'Every input of the GitHub Action is a flag of the same name, an environment variable',
    'SWARM_DEPLOY_<NAME> (upper case, - becomes _), or a key of the --config YAML file; a flag wins',
    'over the environment, which wins over the file. Secrets (ssh-key, registry-password, env) are',
    'never flag values: give them in the environment or in files.',
    '',
    'Inputs:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
    '',
    'Options:',
    `  ${'--config FILE'.padEnd(width)}Inputs from a YAML map of input names to values (lists for several lines).`,
    `  ${'--json'.padEnd(width)}Print the outputs and stats as one JSON object on stdout; the log goes to stderr.`,
    `  ${'--verbose'.padEnd(width)}Also print docker commands, their output and debug lines.`,
    `  ${'--help'.padEnd(width)}This text.`,
    '',
    'Outputs (with --json):',
    ...OUTPUTS.map(o => `  ${o.name.padEnd(width)}${o.description}`),
    '',
    'Releases: swarm-deploy releases --stack NAME [connection flags] [--json] lists the releases recorded',
    'on the swarm; --rollback previous|NUMBER|SHA redeploys one.',
    '',
    'Registry credential: swarm-deploy refresh-auth --stack NAME --registry REGISTRY [connection flags] logs in afresh',
    "and gives the stack's services the new credential and nothing else (see swarm-deploy refresh-auth --help).",
    "Deploy lock: swarm-deploy unlock --stack NAME [connection flags] removes a stack's deploy lock left by a",
    'run that is gone, and says whose it was.',
    "Images: swarm-deploy prune-images --stack NAME [connection flags] [--dry-run] [--json] removes the stack's unused",
    'images on every ready node, as a deploy with --prune-images does (see swarm-deploy prune-images --help).',
    'Rebalance: swarm-deploy rebalance --stack NAME [connection flags] [--dry-run] moves tasks of services spread',
    'unevenly over the nodes (a node joined later) with a rolling --force update (see swarm-deploy rebalance --help).',
    '',
    'Exit codes: 0 converged; 1 failed, rolled back, timed out, cancelled (SIGINT, SIGTERM) or another error; 2 bad input (nothing done);',
    '3 registry or swarm unreachable.',
    ''
  ].join('\n')
}

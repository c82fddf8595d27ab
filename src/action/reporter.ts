// The engine's reporter on a GitHub runner: one log group per phase,
// `::add-mask::` for every secret long enough to mask anywhere,
// `::warning::`/`::debug::`, step outputs.
//
// What docker build, push and stack deploy print is the children's text,
// not ours: a Dockerfile's `RUN echo "::add-mask::…"` or `::error::` would be
// run by the runner as a workflow command. Child output is printed between
// `::stop-commands::<token>` and `::<token>::`, a fresh random token each
// time, so the runner shows those lines as text; anything of ours closes the
// window first. Secrets the runner does not mask (shorter than 8
// characters: hidden only as whole words) are redacted here, child output
// by whole lines, so one split across chunks is still found.
//
// No line printed here is meant as a command (groups, masks and outputs go
// through @actions/core's API), so every line, ours and the children's, is
// made inert (src/report/plain-text.ts): text from outside cannot end the
// window with a `\r` of its own, nor start a command where it is not in one.
import * as core from '@actions/core'
import { randomBytes } from 'node:crypto'
import { StringDecoder } from 'node:string_decoder'
import type { Reporter } from '../ports.js'
import { inertText } from '../report/plain-text.js'
import { maskedParts, Redactor } from '../secrets.js'

export interface ActionsReporter extends Reporter {
  /** Text with every registered secret replaced by ***, for what goes out past the log (the step's error). */
  redact(text: string): string
}

export function actionsReporter(write: (text: string) => void = text => void process.stdout.write(text)): ActionsReporter {
  const masked = new Set<string>()
  const redactor = new Redactor()
  const words = (text: string): string => redactor.redactWords(text)
  // Every secret before cleaning: one with a control character in it would
  // no longer match the runner's mask once cleaned. The short ones again
  // after: cleaning can join a word.
  const shown = (text: string): string => words(inertText(redactor.redact(text)))
  let token: string | undefined
  const partial = { stdout: '', stderr: '' }
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') }

  /** End the child-output window (its last unfinished line first), so the next line of ours is a command again. */
  const close = (): void => {
    for (const from of ['stdout', 'stderr'] as const) {
      const rest = partial[from] + decoders[from].end()
      if (rest !== '') write(`${shown(rest)}\n`)
      partial[from] = ''
    }
    if (token !== undefined) write(`::${token}::\n`)
    token = undefined
  }
  const ours =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      close()
      fn(...args)
    }

  return {
    redact: text => redactor.redact(text),
    secret: ours(value => {
      redactor.add(value)
      for (const part of maskedParts(value)) {
        if (masked.has(part)) continue
        masked.add(part)
        core.setSecret(part)
      }
    }),
    phase: (title, fn) =>
      core.group(title, async () => {
        try {
          return await fn()
        } finally {
          close()
        }
      }),
    info: ours(line => core.info(shown(line))),
    // @actions/core escapes `\r` and `\n` in these; cleaned all the same, so the log reads as info's does.
    warn: ours(line => core.warning(shown(line))),
    debug: ours(line => core.debug(shown(line))),
    // The runner shows `[command]` lines as commands.
    command: ours(argv => write(`[command]${shown(argv.join(' ')).replace(/\n/g, ' ')}\n`)),
    stream(chunk, from) {
      if (token === undefined) {
        token = randomBytes(16).toString('hex')
        write(`::stop-commands::${token}\n`)
      }
      // Both of the child's streams go to stdout, where the window is: the runner reads them apart.
      const text = partial[from] + decoders[from].write(chunk)
      const end = text.lastIndexOf('\n')
      partial[from] = text.slice(end + 1)
      if (end >= 0) write(`${shown(text.slice(0, end))}\n`)
    },
    output: ours((name, value) => core.setOutput(name, value))
  }
}

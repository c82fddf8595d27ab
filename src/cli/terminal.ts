// The engine's reporter for a terminal: a line when a phase starts and one
// with its duration when it ends, the engine's messages indented beneath,
// progress while waiting. Every line is redacted first: outside a runner
// nothing would mask a secret. The CLI also runs in a workflow's `run:` step,
// where the runner reads its output: every line is made inert
// (src/report/plain-text.ts), so no text from outside, nor any line of ours,
// is a workflow command.
import type { Reporter } from '../ports.js'
import { inertText } from '../report/plain-text.js'
import { Redactor } from '../secrets.js'

export interface TerminalReporter extends Reporter {
  outputs: Record<string, string>
  /** Text with every registered secret replaced by ***. */
  redact(text: string): string
  /** Print lines (redacted) outside any phase. */
  print(text: string): void
}

export function terminalReporter(write: (text: string) => void, options: { verbose: boolean; now: () => number }): TerminalReporter {
  const redactor = new Redactor()
  const outputs: Record<string, string> = {}
  let depth = 0
  const partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' }
  const clean = (text: string): string => redactor.redact(text)
  const emit = (text: string, prefix = ''): void => {
    const indent = '  '.repeat(depth)
    // Redacted before and after: a control character inside a secret would otherwise hide it from both.
    const lines = clean(inertText(clean(text)))
      .split('\n')
      .map(line => inertText(`${indent}${prefix}${line}`))
    write(lines.join('\n') + '\n')
  }
  const flush = (): void => {
    for (const from of ['stdout', 'stderr'] as const) {
      if (partial[from] !== '') emit(partial[from], '| ')
      partial[from] = ''
    }
  }
  return {
    outputs,
    redact: clean,
    print: text => emit(text),
    secret: value => redactor.add(value),
    async phase(title, fn) {
      emit(`▸ ${title}`)
      const started = options.now()
      depth += 1
      let ok = false
      try {
        const result = await fn()
        ok = true
        return result
      } finally {
        flush()
        depth -= 1
        emit(`${ok ? '✔' : '✖'} ${title} (${((options.now() - started) / 1000).toFixed(1)}s)`)
      }
    },
    info: line => emit(line),
    warn: line => emit(line, 'warning: '),
    debug: line => {
      if (options.verbose) emit(line, 'debug: ')
    },
    command: argv => {
      if (options.verbose) emit(argv.join(' '), '$ ')
    },
    stream(chunk, from) {
      if (!options.verbose) return
      // Whole lines only, so a secret split across chunks is still redacted.
      const text = partial[from] + chunk.toString('utf8')
      const end = text.lastIndexOf('\n')
      partial[from] = text.slice(end + 1)
      if (end >= 0) emit(text.slice(0, end), '| ')
    },
    output(name, value) {
      outputs[name] = value
    }
  }
}

// Compose files parsed once per run. The preflight, the deploy and the
// release record each read the same files (variables, bare environment
// names, secret sources, name lengths, versions, images), and parsing a
// 200-service file takes ~100 ms and ~10 MB of heap each time: a dozen
// parses were most of the CLI's memory on a large stack. Every reader only
// reads the document (edits are made to the text, or to a clone), so one
// parse serves all.
import * as YAML from 'yaml'

export interface ParsedCompose {
  doc: YAML.Document.Parsed
  /** Line and column of a node's offset. */
  lines: YAML.LineCounter
}

/** The last few texts parsed: a run reads its own files, a rollback the recorded ones. */
const KEEP = 4
const parsed = new Map<string, ParsedCompose>()

/** The document of a compose text, parsed once: read it, never change it. */
export function parsedCompose(text: string): ParsedCompose {
  const known = parsed.get(text)
  if (known) return known
  const lines = new YAML.LineCounter()
  const entry = { doc: YAML.parseDocument(text, { lineCounter: lines }), lines }
  parsed.set(text, entry)
  if (parsed.size > KEEP) parsed.delete(parsed.keys().next().value!)
  return entry
}

// Text from outside (container logs, Swarm's task errors, registry and GitHub
// answers, lock holders, release fields, node names) made inert for a log a
// GitHub runner reads. The runner (actions/runner):
// - reads a step's output with StreamReader.ReadLine (Runner.Sdk/ProcessInvoker.cs
//   StartReadStream), which ends a line at `\r`, `\n` or `\r\n`;
// - runs a line as a command when, after `TrimStart()` (every char.IsWhiteSpace:
//   \t–\r, space, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029,
//   U+202F, U+205F, U+3000), it starts with `::` (ActionCommand.TryParseV2),
//   or when `##[` is anywhere in it (ActionCommand.TryParse, reached from
//   Handlers/OutputManager.cs for any line holding `##[` or `::`);
// - compares with the culture-sensitive `StartsWith(string)`/`IndexOf(string)`,
//   which under ICU can skip zero-width and other format characters.
// So: every control and invisible format character goes (a tab stays), and a
// line that would still start with `::` once trimmed gets a visible `\` in
// front, and `##[` becomes `##\[`. An indentation is no guard: it is trimmed.

/**
 * C0 controls but tab and newline (`\r` too: the runner breaks lines there),
 * DEL, C1 (NEL U+0085 among them), the zero-width and format characters ICU
 * ignores, the line and paragraph separators, and the bidi embeddings,
 * overrides and isolates, which can make a line read other than it is.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g

/** White space `TrimStart()` removes in .NET (JS `\s` holds all of it but NEL, which INVISIBLE removes anyway). */
const LEADING_SPACE = /^[\s\u0085]*/

/** The text without control or invisible characters; newlines and tabs kept. */
export function plainText(text: string): string {
  return text.replace(INVISIBLE, '')
}

/** One line of plain text that no runner reads as a command. */
function inertLine(line: string): string {
  const lead = LEADING_SPACE.exec(line)![0]
  const rest = line.slice(lead.length).replace(/##\[/g, '##\\[')
  return rest.startsWith('::') ? `${lead}\\${rest}` : `${lead}${rest}`
}

/** Text (any number of lines) that prints as what it says: plain, and no line of it a workflow command. */
export function inertText(text: string): string {
  return plainText(text).split('\n').map(inertLine).join('\n')
}

/**
 * JSON text for a log the runner reads, with the same value: the characters
 * `plainText` removes, and the `[` of `##[`, written as `\uXXXX` escapes
 * (JSON.stringify already escapes C0 and never starts a line with `::`).
 */
export function inertJson(json: string): string {
  return json.replace(INVISIBLE, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/##\[/g, '##\\u005b')
}

/** What a front end writes, made inert: JSON (the whole text parses) keeps its value, anything else is text. */
export function inertOutput(text: string): string {
  try {
    JSON.parse(text)
    return inertJson(text)
  } catch {
    return inertText(text)
  }
}

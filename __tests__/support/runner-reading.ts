// A step's output as the GitHub runner reads it (actions/runner): lines split
// at `\r` and `\n` (ProcessInvoker's StreamReader.ReadLine), each trimmed of
// leading white space (char.IsWhiteSpace: JS `\s` and NEL); `::name props::data`
// at the start of a line (ActionCommand.TryParseV2), `##[name props]data`
// anywhere in it (ActionCommand.TryParse); inside a `::stop-commands::TOKEN`
// window nothing but the token's own command.

export interface RunnerCommand {
  /** The command's name and its properties, e.g. `error title=x`. */
  name: string
  data: string
}

export function readAsRunner(output: string): { commands: RunnerCommand[]; text: string[] } {
  const commands: RunnerCommand[] = []
  const text: string[] = []
  let token: string | undefined
  for (const raw of output.split(/\r\n|\r|\n/)) {
    const line = raw.replace(/^[\s\u0085]+/, '')
    const v2 = /^::([^ :]+)( [^:]*)?::(.*)$/.exec(line)
    const v1 = /##\[([^\] ]+)[^\]]*\](.*)$/.exec(line)
    const found = v2 ? { name: v2[1]!, props: v2[2] ?? '', data: v2[3]! } : v1 ? { name: v1[1]!, props: '', data: v1[2]! } : undefined
    if (token !== undefined) {
      if (found?.name.toLowerCase() !== token.toLowerCase()) text.push(line)
      else {
        commands.push({ name: found.name, data: found.data })
        token = undefined
      }
      continue
    }
    if (!found) {
      text.push(line)
      continue
    }
    commands.push({ name: found.name + found.props, data: found.data })
    if (found.name === 'stop-commands') token = found.data
  }
  return { commands, text }
}

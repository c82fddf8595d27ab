#!/usr/bin/env node
// `npm run build`: both bundles with ncc. The Action is dist/index.js (what
// action.yml runs); the CLI is dist/cli/index.js, started by dist/cli.js
// (package.json "bin"), which ncc cannot name itself.
import { execFileSync } from 'node:child_process'
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ncc = path.join(root, 'node_modules/.bin/ncc')
const build = (entry, out) => execFileSync(ncc, ['build', entry, '-o', out, '--source-map', '--license', 'licenses.txt'], { cwd: root, stdio: 'inherit' })

// ncc adds files but never removes one: start clean, so that nothing a
// dependency no longer in the bundle left (such as dockerode's .proto files) stays.
rmSync(path.join(root, 'dist'), { recursive: true, force: true })
build('src/index.ts', 'dist')
build('src/cli.ts', 'dist/cli')
const entry = path.join(root, 'dist/cli.js')
writeFileSync(entry, "#!/usr/bin/env node\nimport './cli/index.js'\n")
chmodSync(entry, 0o755)

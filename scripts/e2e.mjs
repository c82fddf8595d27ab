#!/usr/bin/env node
// Runs the e2e files against the running lab (lab/lab.sh up): the files that
// change the lab for every run on it go one at a time, after the others,
// which share the lab side by side. Most of an e2e file's time is spent
// waiting for Swarm, so a few at once cost little CPU.
//
//   node scripts/e2e.mjs [FILE...]     (default: every __tests__/e2e/**/*.test.ts)
//
// E2E_WORKERS: how many files share the lab at once (default 2: several e2e tests
// bound how long a step may take, and the machine has two cores).
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const E2E = path.join(ROOT, '__tests__/e2e')

// What each of these does to the lab that every other run on it would feel.
// A new e2e file that stops, restarts or reconfigures a shared lab component
// belongs here; one that only adds and removes its own stacks, configs,
// secrets, networks, registry repositories or registry user does not.
export const SERIAL = {
  'converge.test.ts': "stops the worker's dockerd (lab.sh worker-stop) and ends every SSH session to the manager (lab.sh sshd-drop)",
  'releases-restart.test.ts': "restarts the manager's dockerd (lab.sh manager-restart)",
  'capacity-join.test.ts': 'a third node joins the swarm and leaves it (lab.sh node-add, node-remove)',
  'prune-images.test.ts': 'drains the worker (docker node update --availability drain) and removes images on every node',
  'buildkit.test.ts':
    "empties the runner's build cache (buildx prune --all) to stand for a new runner, and needs no other build beside it between its two builds",
  'rebalance.test.ts': 'a third node joins the swarm and leaves it (lab.sh node-add, node-remove), and is drained once: any task may land on it or move'
}

function testFiles(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap(name => {
      const file = path.join(dir, name)
      if (statSync(file).isDirectory()) return testFiles(file)
      return name.endsWith('.test.ts') ? [file] : []
    })
}

function jest(files, workers) {
  if (files.length === 0) return 0
  const started = Date.now()
  const args = ['--selectProjects', 'e2e', '--maxWorkers', String(workers), '--runTestsByPath', ...files]
  const result = spawnSync(path.join(ROOT, 'node_modules/.bin/jest'), args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, '--experimental-vm-modules'].filter(Boolean).join(' ') }
  })
  console.log(`e2e: ${files.length} file(s), ${workers} at a time, in ${Math.round((Date.now() - started) / 1000)} s: exit ${result.status ?? result.signal}`)
  return result.status ?? 1
}

const wanted = process.argv.slice(2).map(file => path.resolve(file))
const files = wanted.length > 0 ? wanted : testFiles(E2E)
const serial = files.filter(file => path.basename(file) in SERIAL)
const shared = files.filter(file => !serial.includes(file))
const workers = Number(process.env.E2E_WORKERS ?? 2)
if (!Number.isInteger(workers) || workers < 1) throw new Error(`E2E_WORKERS=${process.env.E2E_WORKERS}: give a whole number ≥ 1`)

const started = Date.now()
console.log(
  `e2e: ${shared.length} file(s) side by side (${workers} at a time), then ${serial.length} alone: ${serial.map(f => path.basename(f)).join(', ') || 'none'}`
)
// The serial files run even when a shared one failed: a CI run shows every failure at once.
const codes = [jest(shared, workers), jest(serial, 1)]
console.log(`e2e: done in ${Math.round((Date.now() - started) / 1000)} s`)
process.exit(codes.some(code => code !== 0) ? 1 : 0)

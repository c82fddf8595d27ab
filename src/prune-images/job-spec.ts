// The two jobs the cleanup runs on every node, as data: the `docker service
// create` argv (a `global-job` with the node's engine socket mounted, no
// network, secret or registry credential), the shell each runs, and how their
// logs read back. Pure: the run (job.ts) executes them.
import type { ImageRow } from './decide.js'

export type JobKind = 'list' | 'remove'

/** Labels every job service carries: a leftover of a killed run is found and removed by them. */
export const JOB_LABEL = 'io.swarm-deploy.prune-images'

export interface JobSpec {
  kind: JobKind
  stack: string
  /** The job's image: a shell and a docker CLI. */
  image: string
  /** Where each node's engine socket is (a `--mount` source: `{{.Node.Hostname}}` and the other service templates work). */
  socket: string
  /** Nodes the job must not run on (down, drained, paused). */
  skip: string[]
  /** A suffix that makes the service name this run's own. */
  runId: string
  /** The remove job: the image IDs for each node. */
  remove?: ReadonlyMap<string, string[]>
}

/** Each image as one JSON line, read by readListing. */
const LIST_SCRIPT = [
  'set -e',
  `docker image ls --quiet --no-trunc | sort -u | xargs -r docker image inspect --format '{"id":{{json .Id}},"size":{{.Size}},"tags":{{json .RepoTags}},"digests":{{json .RepoDigests}}}'`,
  'echo "listed"'
].join('\n')

// Swarm keeps the containers of a service's last few tasks (its task
// history); a stopped one holds its image, and `docker image rm` refuses an
// image a container holds. The stack's own stopped containers of an image
// about to go are removed first; a running one is never touched, and an
// image it holds is refused by the engine and left.
const REMOVE_SCRIPT = [
  'ids=',
  'for entry in $PRUNE_IDS; do case "$entry" in "$NODE_ID="*) ids=${entry#*=} ;; esac; done',
  'for id in $(echo "$ids" | tr , " "); do',
  '  docker container ls --all --quiet --filter "label=com.docker.stack.namespace=$STACK" --filter status=exited --filter status=created --filter status=dead --filter "ancestor=$id" | xargs -r docker container rm >/dev/null 2>&1',
  '  if out=$(docker image rm "$id" 2>&1); then echo "removed $id"; else echo "refused $id $(echo "$out" | tr "\\n" " ")"; fi',
  'done',
  'echo "finished"'
].join('\n')

export function jobName(spec: Pick<JobSpec, 'kind' | 'stack' | 'runId'>): string {
  return `${spec.stack}-prune-images-${spec.kind}-${spec.runId}`.slice(0, 63)
}

/** `docker service create` for the job: detached, its tasks watched through the Engine API. */
export function jobServiceArgs(spec: JobSpec): string[] {
  const args = ['service', 'create', '--detach', '--quiet', '--name', jobName(spec), '--mode', 'global-job', '--restart-condition', 'none']
  // The image is pinned by digest or is the node's own (the lab's): nothing for the runner to look up.
  args.push('--no-resolve-image', '--label', `${JOB_LABEL}=${spec.stack}`, '--container-label', `${JOB_LABEL}=${spec.stack}`)
  args.push('--mount', `type=bind,source=${spec.socket},target=/var/run/docker.sock`)
  for (const node of spec.skip) args.push('--constraint', `node.id!=${node}`)
  args.push('--env', 'NODE_ID={{.Node.ID}}', '--env', `STACK=${spec.stack}`)
  if (spec.kind === 'remove') args.push('--env', `PRUNE_IDS=${removeList(spec.remove ?? new Map())}`)
  return [...args, '--entrypoint', 'sh', spec.image, '-c', spec.kind === 'list' ? LIST_SCRIPT : REMOVE_SCRIPT]
}

/** `node=id,id node=id`: one variable for all nodes; each task picks its own by the node ID Swarm templates in. */
export function removeList(ids: ReadonlyMap<string, string[]>): string {
  return [...ids]
    .filter(([, list]) => list.length > 0)
    .map(([node, list]) => `${node}=${list.join(',')}`)
    .join(' ')
}

/** The listing job's output on one node; undefined when it did not get to the end (its last line). */
export function readListing(log: string): ImageRow[] | undefined {
  const lines = log.split('\n').map(l => l.trim())
  if (!lines.includes('listed')) return undefined
  const rows: ImageRow[] = []
  for (const line of lines) {
    if (!line.startsWith('{')) continue
    const raw = JSON.parse(line) as { id?: unknown; size?: unknown; tags?: unknown; digests?: unknown }
    if (typeof raw.id !== 'string' || typeof raw.size !== 'number') continue
    const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [])
    rows.push({ id: raw.id, size: raw.size, tags: strings(raw.tags), digests: strings(raw.digests) })
  }
  return rows
}

export interface RemovalReport {
  removed: string[]
  refused: Array<{ id: string; why: string }>
  /** The job got to its end. */
  finished: boolean
}

/** The remove job's output on one node. */
export function readRemoval(log: string): RemovalReport {
  const report: RemovalReport = { removed: [], refused: [], finished: false }
  for (const line of log.split('\n').map(l => l.trim())) {
    const [word, id, ...why] = line.split(' ')
    if (word === 'removed' && id) report.removed.push(id)
    else if (word === 'refused' && id) report.refused.push({ id, why: why.join(' ').trim() })
    else if (word === 'finished') report.finished = true
  }
  return report
}

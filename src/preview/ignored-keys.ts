// Compose keys `docker stack deploy` accepts and then ignores: users of
// `docker compose` expect them to work on a swarm too. The lists are what
// docker CLI 28.2 prints as "Ignoring unsupported options" and "Ignoring
// deprecated options" (checked on this machine), plus depends_on, which it
// accepts silently although Swarm starts services in no order. Pure.
import * as YAML from 'yaml'

const UNSUPPORTED = [
  'build',
  'cgroup_parent',
  'cgroupns_mode',
  'devices',
  'domainname',
  'external_links',
  'ipc',
  'links',
  'mac_address',
  'network_mode',
  'pid',
  'privileged',
  'restart',
  'security_opt',
  'shm_size',
  'userns_mode'
]
const WHY: Record<string, string> = {
  container_name: 'Swarm names the containers itself',
  expose: 'services on one network reach each other on any port',
  depends_on: 'Swarm starts services in no order; use a healthcheck and retries',
  restart: 'use deploy.restart_policy',
  build: 'build the image before the deploy (the image input)'
}
const IGNORED = [...UNSUPPORTED, 'container_name', 'expose', 'depends_on']

/** One warning per service and file that uses ignored keys, e.g. "… service web: container_name, restart (use deploy.restart_policy) are ignored by docker stack deploy". */
export function ignoredKeyWarnings(files: Array<{ path: string; text: string }>): string[] {
  const warnings: string[] = []
  for (const { path, text } of files) {
    const parsed = YAML.parseDocument(text)
    if (parsed.errors.length > 0) continue
    const services = (parsed.toJS() as { services?: unknown } | null)?.services
    if (services === null || typeof services !== 'object') continue
    for (const [name, service] of Object.entries(services as Record<string, unknown>)) {
      if (service === null || typeof service !== 'object') continue
      const used = IGNORED.filter(key => key in service)
      if (used.length === 0) continue
      const listed = used.map(key => (WHY[key] ? `${key} (${WHY[key]})` : key)).join(', ')
      warnings.push(`compose-file: ${path}: service ${name}: ${listed} ${used.length === 1 ? 'is' : 'are'} ignored by docker stack deploy`)
    }
  }
  return warnings
}

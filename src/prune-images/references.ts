// Image references as Swarm specs, release records and a node's `docker image
// ls` write them, brought to one form so they can be compared: the same image
// is `nginx:1` on a node and `docker.io/library/nginx:1@sha256:…` in a spec.

export interface ImageReference {
  /** The full repository name: `docker.io/library/nginx`, `10.77.0.1:5000/app`. */
  repository: string
  tag?: string
  /** `sha256:…` */
  digest?: string
}

const DIGEST = /@(sha256:[0-9a-f]{64})$/

/** The repository as the registry knows it: Docker Hub's short names made whole. */
export function fullRepository(name: string): string {
  const first = name.split('/')[0]!
  // A first part with a dot or a port, or `localhost`, is a registry; anything else is on Docker Hub.
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
  if (hasRegistry) return name.replace(/^(?:index\.|registry-1\.)docker\.io\//, 'docker.io/')
  return name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`
}

/**
 * `repo:tag@sha256:…`, `repo@sha256:…` or `repo:tag`; undefined for what names
 * no repository (`<none>:<none>`, an empty text, a reference that still holds
 * a `${VARIABLE}`).
 */
export function parseReference(text: string): ImageReference | undefined {
  let rest = text.trim()
  if (rest === '' || rest.startsWith('<none>')) return undefined
  const digest = DIGEST.exec(rest)?.[1]
  if (digest) rest = rest.slice(0, rest.length - digest.length - 1)
  const slash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  const tag = colon > slash ? rest.slice(colon + 1) : undefined
  if (tag !== undefined) rest = rest.slice(0, colon)
  if (rest === '' || /[${}*\s]/.test(rest)) return { repository: '', ...(digest ? { digest } : {}) }
  return { repository: fullRepository(rest), ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) }
}

/** The digest of a reference that names one (`…@sha256:…`), whatever else it holds. */
export function digestOf(text: string): string | undefined {
  return DIGEST.exec(text.trim())?.[1]
}

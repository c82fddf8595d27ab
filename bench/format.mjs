// How the bench prints its figures.
import { secs } from './lab.mjs'

export const pad = (value, width) => String(value ?? '—').padEnd(width)
export const fmtSigned = ms => (ms == null ? '—' : `${ms >= 0 ? '+' : ''}${secs(ms).toFixed(1)} s`)
export const fmtS = ms => (ms == null ? '—' : `${secs(ms).toFixed(1)} s`)
export const mib = bytes => (bytes ? `${(bytes / 1048576).toFixed(1)} MiB` : '—')
/** a / b as "1.23×", or why there is no ratio. */
export const times = (a, b) => (a == null || b == null ? 'n/a' : b === 0 ? (a === 0 ? '1.00×' : 'n/a') : `${(a / b).toFixed(2)}×`)
export const met = ok => (ok == null ? '  ' : ok ? 'ok' : 'NO')

/** The median of numbers (the mean of the two middle ones for an even count); null for none. */
export function median(values) {
  const sorted = values.filter(v => v != null && !Number.isNaN(v)).sort((x, y) => x - y)
  if (sorted.length === 0) return null
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

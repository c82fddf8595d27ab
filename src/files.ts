import { statSync } from 'node:fs'

/** An existing regular file (following links); false for anything else, unreadable paths included. */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

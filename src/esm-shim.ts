// ssh2's bundled Poly1305 (emscripten) reads the CommonJS `__dirname` at load
// time; an ESM bundle has none. Its WASM is inlined, so any directory will do.
// Imported first by index.ts, so it runs before ssh2 is evaluated.
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const scope = globalThis as { __dirname?: string }
scope.__dirname ??= path.dirname(fileURLToPath(import.meta.url))

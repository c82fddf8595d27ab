import './esm-shim.js'
import { run } from './main.js'

await run()
// Every handle should be closed by now; if one leaked anyway, do not let it
// hold the job open until GitHub's 6-hour limit.
setTimeout(() => process.exit(), 5_000).unref()

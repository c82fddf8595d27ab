import './esm-shim.js'
import { whenSignalled } from './leftovers.js'
import { isPost, post, run } from './main.js'

if (isPost()) {
  await post()
} else if ((await run(whenSignalled())) === 'cancelled') {
  // The engine may still hold sockets and timers: nothing of it is wanted now.
  process.exit(1)
}
// Every handle should be closed by now; if one leaked anyway, do not let it
// hold the job open until GitHub's 6-hour limit.
setTimeout(() => process.exit(), 5_000).unref()

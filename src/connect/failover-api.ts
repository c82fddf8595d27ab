// The Engine API as the session hands it out: a manager that answers that it
// is no manager any more (demoted mid-run) is let go of and the request goes
// once more, through the next manager (the refusal shows it was not carried
// out); and an error while the swarm has no leader, or while no manager
// serves, says so in words, not as Swarm's raft message or a socket's hang-up.
import type { DockerTunnel, SwarmApi } from '../ports.js'
import { QUORUM_LOST, troubleOf, troubleReason } from './manager-trouble.js'

type Connection = Pick<DockerTunnel, 'failover' | 'trouble'>

/** The error, reworded when the connection knows better why it failed; its status code (404, 409 …) is kept. */
export function explained(error: unknown, connection: Connection): unknown {
  if (!(error instanceof Error)) return error
  const said = error.message
  const trouble = troubleOf(said)
  const why = trouble === 'no-quorum' ? QUORUM_LOST : trouble === undefined ? connection.trouble?.() : undefined
  if (why === undefined || said.includes(why)) return error
  return Object.assign(new Error(`${why} (${said})`), { statusCode: (error as { statusCode?: unknown }).statusCode })
}

export function failingOver(api: SwarmApi, connection: Connection): SwarmApi {
  const guarded =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await call(...args)
      } catch (error) {
        if (!(error instanceof Error) || troubleOf(error.message) !== 'not-manager' || !connection.failover) throw explained(error, connection)
        connection.failover(troubleReason('not-manager'))
        try {
          return await call(...args)
        } catch (again) {
          throw explained(again, connection)
        }
      }
    }
  // Every call but the two that reach no engine, whatever the object (a fake's methods may be its class's),
  // and a method added to SwarmApi later too.
  return new Proxy(api, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver)
      if (typeof value !== 'function' || name === 'calls' || name === 'close') return value
      return guarded((value as (...args: unknown[]) => Promise<unknown>).bind(target))
    }
  })
}

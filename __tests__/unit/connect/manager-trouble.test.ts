// Which trouble a manager's words show, on the texts Docker gave on the
// three-manager cluster (lab/cluster.sh).
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { nextManagerIndex, noManagerReason, QUORUM_LOST, troubleOf, troubleReason } from '../../../src/connect/manager-trouble.js'

const recorded = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/managers/errors.json'), 'utf8')) as Record<
  string,
  string
>

describe('troubleOf', () => {
  it('reads a stopped engine from what dial-stdio and the CLI say', () => {
    expect(troubleOf(recorded.dialStdioEngineStopped!)).toBe('engine-down')
    expect(troubleOf(recorded.cliEngineStopped!)).toBe('engine-down')
    expect(troubleOf('dial unix /var/run/docker.sock: connect: connection refused')).toBe('engine-down')
  })

  it('reads a lost quorum from the raft errors and /info', () => {
    expect(troubleOf(recorded.lostLeaderStatus!)).toBe('no-quorum')
    expect(troubleOf(recorded.noLeader!)).toBe('no-quorum')
    expect(troubleOf(recorded.infoSwarmErrorNoLeader!)).toBe('no-quorum')
  })

  it('reads a demoted manager', () => {
    expect(troubleOf(recorded.demoted!)).toBe('not-manager')
  })

  it('leaves anything else alone: docker missing, permissions, a plain error', () => {
    expect(troubleOf('bash: line 1: docker: command not found')).toBeUndefined()
    expect(troubleOf('dial unix /var/run/docker.sock: connect: permission denied')).toBeUndefined()
    expect(troubleOf('(HTTP code 404) GET /services/x: service x not found')).toBeUndefined()
  })
})

describe('noManagerReason', () => {
  it('puts a lost quorum first, whatever the other managers said', () => {
    const reason = noManagerReason([
      { manager: '10.0.0.1:22', reason: troubleReason('engine-down') },
      { manager: '10.0.0.3:22', reason: troubleReason('no-quorum') }
    ])
    expect(reason).toBe(
      `${QUORUM_LOST} (10.0.0.1:22: its Docker engine is not running (docker system dial-stdio cannot connect to it); 10.0.0.3:22: up, with no leader)`
    )
  })

  it('takes more than half of the managers with their engine stopped for a lost quorum, the last one silent (as on engine 28)', () => {
    const reasons = [
      { manager: 'a:22', reason: troubleReason('engine-down') },
      { manager: 'b:22', reason: troubleReason('engine-down') },
      { manager: 'c:22', reason: 'its Docker engine did not answer within 4.943s' }
    ]
    expect(noManagerReason(reasons, 3).startsWith(`${QUORUM_LOST} (a:22: its Docker engine is not running`)).toBe(true)
    expect(noManagerReason(reasons.slice(1), 3)).toMatch(/^no manager serves \(b:22: /)
  })

  it('lists each manager and its reason otherwise', () => {
    expect(noManagerReason([{ manager: 'a:22', reason: 'connection refused (no sshd listens on that port)' }])).toBe(
      'no manager serves (a:22: connection refused (no sshd listens on that port))'
    )
  })
})

describe('nextManagerIndex', () => {
  it('tries the managers after the lost one in turn, the lost one last', () => {
    expect([0, 1, 2].map(failures => nextManagerIndex(0, failures, 3))).toEqual([1, 2, 0])
    expect([0, 1, 2].map(failures => nextManagerIndex(2, failures, 3))).toEqual([0, 1, 2])
  })

  it('with one manager, always that one', () => {
    expect(nextManagerIndex(0, 5, 1)).toBe(0)
  })
})

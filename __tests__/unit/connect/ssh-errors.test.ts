// Why dial-stdio on a manager could not reach its engine, on recorded texts.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { dialReason } from '../../../src/connect/ssh-errors.js'

const recorded = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/managers/errors.json'), 'utf8')) as Record<
  string,
  string
>

describe('dialReason', () => {
  it('says the engine is not running when its socket is gone (a 28.x CLI says "no such file or directory"), not that docker is missing', () => {
    expect(dialReason(recorded.dialStdioEngineStopped!, 'root')).toBe('its Docker engine is not running (docker system dial-stdio cannot connect to it)')
    expect(dialReason(recorded.cliEngineStopped!, 'root')).toBe('its Docker engine is not running (docker system dial-stdio cannot connect to it)')
  })

  it('says docker is not installed when the shell cannot find it', () => {
    expect(dialReason('bash: line 1: docker: command not found', 'deploy')).toBe(
      'docker is not installed for deploy on the manager (docker system dial-stdio did not run)'
    )
  })
})

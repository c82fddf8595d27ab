// The exhaustiveness checks: a member a switch does not handle is a compile
// error (npm run typecheck reads this file too), and what each does if run.
import { describe, expect, it } from '@jest/globals'
import { unlisted, unreachable } from '../../src/exhaustive.js'

type Light = 'red' | 'green'

function handledAll(light: Light): string {
  switch (light) {
    case 'red':
      return 'stop'
    case 'green':
      return 'go'
    default:
      return unreachable(light)
  }
}

function missingOne(light: Light): string {
  switch (light) {
    case 'red':
      return 'stop'
    default:
      // @ts-expect-error 'green' is not handled, so the value is not `never` here.
      return unreachable(light)
  }
}

describe('exhaustiveness checks', () => {
  it('unreachable throws, naming the value a switch did not handle', () => {
    expect(handledAll('green')).toBe('go')
    expect(() => missingOne('green')).toThrow('unreachable: "green" is not handled')
  })

  it('unlisted lets a value from outside go on past the switch', () => {
    const fromOutside = JSON.parse('"amber"') as Light
    const seen: string[] = []
    switch (fromOutside) {
      case 'red':
      case 'green':
        seen.push(fromOutside)
        break
      default:
        unlisted(fromOutside)
    }
    expect(seen).toEqual([])
  })
})

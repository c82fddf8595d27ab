// Which swarm configs are a stack's release records, by name: `<stack>_release_<n>`
// and nothing else (version pruning keeps them; other stacks' are not this stack's).
import { describe, expect, it } from '@jest/globals'
import { isReleaseName, releaseName } from '../../../src/release/record.js'

describe('isReleaseName', () => {
  it('knows the names releaseName gives', () => {
    expect(isReleaseName('web', releaseName('web', 1))).toBe(true)
    expect(isReleaseName('web', releaseName('web', 120))).toBe(true)
  })

  it('refuses names that only look alike', () => {
    expect(isReleaseName('web', 'web_release_')).toBe(false)
    expect(isReleaseName('web', 'web_release_3a')).toBe(false)
    expect(isReleaseName('web', 'web_release_-1')).toBe(false)
    expect(isReleaseName('web', 'web_secret_release_3')).toBe(false)
    expect(isReleaseName('web', 'x_web_release_3')).toBe(false)
  })

  it("does not take another stack's records for this stack's", () => {
    expect(isReleaseName('web', 'web2_release_3')).toBe(false)
    expect(isReleaseName('web-2', 'web_release_3')).toBe(false)
    // A character that means something in a regular expression means nothing here.
    expect(isReleaseName('a.b', 'axb_release_1')).toBe(false)
    expect(isReleaseName('a.b', 'a.b_release_1')).toBe(true)
  })
})

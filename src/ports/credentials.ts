// Registry credentials kept outside the inputs: ECR tokens from the AWS SDK
// (src/registry/login.ts) and a Docker credential helper's `get`
// (src/registry/credential-helper.ts).

/** An ECR login: the token's user and password, and when ECR says the token stops working (about 12 hours on). */
export interface EcrToken {
  username: string
  password: string
  expiresAt?: Date
}

export type EcrTokenSource = (region: string) => Promise<EcrToken>

/** What a helper's `get` printed and how it exited. */
export interface HelperAnswer {
  code: number
  stdout: string
  stderr: string
}

/** Runs `docker-credential-<helper> get` with `serverUrl` on stdin; rejects with `HelperMissing` when it is not on PATH. */
export type HelperRun = (helper: string, serverUrl: string, env: Record<string, string>) => Promise<HelperAnswer>

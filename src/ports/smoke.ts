// The smoke check's one HTTP GET (src/smoke/http.ts).

/** One GET: the URL without userinfo (fetch refuses it), the headers (Basic auth from it), a deadline. */
export interface SmokeRequest {
  url: string
  headers: Record<string, string>
  timeoutMs: number
}

/** What came back: a status and the start of the body, or why nothing did. */
export type SmokeAnswer = { status: number; body: string } | { error: string }

export type SmokeGet = (request: SmokeRequest) => Promise<SmokeAnswer>

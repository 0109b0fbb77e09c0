import type { IncomingMessage, ServerResponse } from 'node:http'
import helmet, { type HelmetOptions } from 'helmet'

/**
 * The security headers helmet sets for these options, worked out once. Helmet's middleware
 * depends on nothing in the request: it parses its options and sets the same headers every time,
 * and the Fastify wrapper built that middleware afresh for every request (about 7% of a small
 * page's CPU). Here it runs once against a response that only records what is set, and every
 * reply gets the recorded headers.
 */
export function securityHeaders(options: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    }
  }
  let failure: unknown
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => { failure = err })
  if (failure) throw failure
  return Object.freeze(headers)
}

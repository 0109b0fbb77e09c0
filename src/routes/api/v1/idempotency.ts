// Every retried API POST answered once. A POST sent with an `Idempotency-Key` claims the key for
// its API token before it runs (an "in flight" row; of two at once, the unique key lets one
// win), and the answer is recorded as it is sent; a retry within 24 hours gets that answer
// again with `Idempotent-Replayed: true` and changes nothing. The route runs its command through
// `once()`, which keeps the command's result with the key in the command's own transaction: a
// retry after a crash between that commit and the recorded answer is answered from the kept
// result, never by running the command again. The rows are the API channel's own bookkeeping.
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { StoredIdempotency } from '../../../db/idempotency.js'
import { claimApiKey, committingKey, recordApiAnswer, releaseApiKey, sweepApiKeys } from '../../../commands/api-idempotency.js'
import type { Deps, Outcome } from '../../../commands/kernel.js'
import { HttpError } from '../../../plugins/app.js'
import type { Translate } from '../../../i18n/index.js'
import { RequestValidationError } from './errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The API token the request authenticated with: the scope of its Idempotency-Key. */
    apiTokenId: number | null
    /** The api_idempotency row this request claimed, until its answer is recorded. */
    idempotencyClaim: number | null
    /** A retry of a request whose command committed but whose answer was never recorded: that command's result. */
    committedOutcome: { value: unknown } | null
  }
}

export const IDEMPOTENCY_HEADER = 'idempotency-key'
/** How long an answer is replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000
/**
 * An in-flight claim older than this belongs to a request that died with its process: the key is
 * free again. Far longer than any request takes (a command is one short transaction).
 */
export const ABANDONED_AFTER_MS = 2 * 60_000
const SWEEP_EVERY_MS = 10 * 60_000
/** Replayed with the body; the rest (cache-control, date) is the replay's own. */
const KEPT_HEADERS = ['content-type', 'location'] as const

/** Printable ASCII, 1 to 255 characters. */
export function isValidIdempotencyKey(key: string): boolean {
  return /^[\x20-\x7e]{1,255}$/.test(key)
}

/** JSON with object keys sorted, so that the same body in another key order is the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? ''
}

/** What makes two requests the same request: the method, the path and the body. */
export function requestFingerprint(method: string, url: string, body: unknown): string {
  return createHash('sha256').update(`${method}\n${url}\n${canonicalJson(body)}`).digest('hex')
}

const keyReused = (t: Translate) => new HttpError(422, 'idempotency_key_reused', t('api.error.idempotencyKeyReused'))
const keyInFlight = (t: Translate) => new HttpError(409, 'idempotency_key_in_flight', t('api.error.idempotencyKeyInFlight'))

function replay(reply: FastifyReply, row: StoredIdempotency): FastifyReply {
  const headers = JSON.parse(row.response_headers ?? '{}') as Record<string, string>
  return reply.code(row.response_status ?? 200).headers(headers).header('idempotent-replayed', 'true').send(row.response_body ?? '')
}

/**
 * Runs the request's command once per Idempotency-Key: the retry of a committed request gets the
 * first attempt's result without running it again; a claimed request keeps its result with the key.
 */
export async function once<T, D extends Deps>(request: FastifyRequest, deps: D, command: (deps: D) => Promise<Outcome<T>>): Promise<Outcome<T>> {
  if (request.committedOutcome !== null) return { ok: true, value: request.committedOutcome.value as T }
  const claim = request.idempotencyClaim
  return command(claim === null ? deps : committingKey(deps, claim))
}

/** Adds the Idempotency-Key handling to the API instance (its POST routes). */
export function idempotentPosts(fastify: FastifyInstance): void {
  const deps = { db: fastify.db, clock: fastify.clock }
  fastify.decorateRequest('apiTokenId', null)
  fastify.decorateRequest('idempotencyClaim', null)
  fastify.decorateRequest('committedOutcome', null)
  let lastSweep = 0

  // After the body is parsed and before it is validated: a refused body is an answer too.
  fastify.addHook('preValidation', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST' || request.is404) return
    const header = request.headers[IDEMPOTENCY_HEADER]
    if (header === undefined) return
    const key = Array.isArray(header) ? header.join(', ') : header
    if (!isValidIdempotencyKey(key)) throw new RequestValidationError({ 'Idempotency-Key': request.t('api.validation.idempotencyKey') })
    const tokenId = request.apiTokenId
    if (tokenId === null) return
    const now = fastify.clock()
    const fingerprint = requestFingerprint(request.method, request.url, request.body)
    const claim = await claimApiKey(deps, { tokenId, key, fingerprint, ttlMs: IDEMPOTENCY_TTL_MS, abandonedMs: ABANDONED_AFTER_MS })
    if (claim.claimed) {
      request.idempotencyClaim = claim.id
      if (now.getTime() - lastSweep > SWEEP_EVERY_MS) {
        lastSweep = now.getTime()
        const deleted = await sweepApiKeys(deps, IDEMPOTENCY_TTL_MS)
        if (deleted > 0) request.log.debug({ deleted }, 'expired idempotency keys deleted')
      }
      return
    }
    const row = claim.row
    if (row && row.fingerprint !== fingerprint) throw keyReused(request.t)
    if (row?.status === 'committed') {
      // The first attempt's change is saved; its answer is rebuilt from what it changed.
      request.log.info({ idempotencyId: row.id }, 'retried API request answered from its committed outcome')
      request.idempotencyClaim = row.id
      request.committedOutcome = { value: JSON.parse(row.outcome ?? 'null') as unknown }
      reply.header('idempotent-replayed', 'true')
      return
    }
    if (!row || row.status !== 'done') throw keyInFlight(request.t)
    request.log.info({ idempotencyId: row.id }, 'retried API request answered again')
    return replay(reply, row)
  })

  // The answer as sent is what a retry gets; a failure (5xx) frees the key so that a retry runs.
  fastify.addHook('onSend', async (request, reply, payload) => {
    const id = request.idempotencyClaim
    if (id === null) return payload
    request.idempotencyClaim = null
    try {
      if (reply.statusCode >= 500 || typeof payload !== 'string') {
        await releaseApiKey(deps, id)
      } else {
        const headers: Record<string, string> = {}
        for (const name of KEPT_HEADERS) {
          const value = reply.getHeader(name)
          if (value !== undefined) headers[name] = String(value)
        }
        await recordApiAnswer(deps, id, { status: reply.statusCode, headers, body: payload })
      }
    } catch (err) {
      // The client gets its answer all the same; the claim is taken again once abandoned.
      request.log.error({ err, idempotencyId: id }, 'could not record the answer to an idempotent request')
    }
    return payload
  })
}

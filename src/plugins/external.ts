import { createHash, randomBytes } from 'node:crypto'
import { keptOnce } from '../security/mail-key.js'
import { join } from 'node:path'
import fp from 'fastify-plugin'
import accepts from '@fastify/accepts'
import formbody from '@fastify/formbody'
import multipart from '@fastify/multipart'
import secureSession from '@fastify/secure-session'
import csrf from '@fastify/csrf-protection'
import rateLimit from '@fastify/rate-limit'
import view from '@fastify/view'
import fastifyStatic from '@fastify/static'
import { Eta } from 'eta'
import type { Config } from '../config.js'
import type { Db, Executor } from '../db/index.js'
import { createFileStore } from '../db/file-store.js'
import { securityHeaders } from '../security/headers.js'
import type { Clock } from '../domain/clock.js'
import type { FileStore, UploadedFile } from '../storage/attachments.js'

export const ROOT = new URL('../../', import.meta.url).pathname

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Db
    clock: Clock
    random: () => number
    /** Attachments and export files: on disk or in the database (FILE_STORE). */
    store: FileStore<Executor>
  }
  interface FastifyRequest {
    /** Files received in this request that still sit in the temp folder. */
    uploads: UploadedFile[]
    /** True while a multipart body is being read: an error then is the body's (cut short, no boundary). */
    readingBody: boolean
  }
}

declare module '@fastify/secure-session' {
  interface SessionData {
    /** The session's token; the server keeps its hash in `web_session`. */
    sid: string
    flash: { kind: 'success' | 'error' | 'info'; text: string }
  }
}

export interface CoreOptions {
  config: Config
  db: Db
  clock: Clock
  random: () => number
}

/** The session key: SESSION_SECRET when set, else one generated once and kept under DATA_DIR. */
function sessionKey(config: Config): Buffer {
  if (config.SESSION_SECRET) {
    return createHash('sha256').update(config.SESSION_SECRET).digest()
  }
  // Written aside and linked into place: web processes starting together agree on one key, and none reads a half-written file.
  return Buffer.from(keptOnce(join(config.dataDir, 'session.key'), () => randomBytes(32).toString('base64')).trim(), 'base64')
}

/** External plugins: security headers, content negotiation, body parsers, session, CSRF, rate limits, views. */
export default fp(async function external(fastify, opts: CoreOptions) {
  const { config } = opts
  fastify.decorate('config', config)
  fastify.decorate('db', opts.db)
  fastify.decorate('clock', opts.clock)
  fastify.decorate('random', opts.random)
  const store = createFileStore(config, opts.db)
  fastify.decorate('store', store)

  // Helmet's headers, the same on every response (not only pages: errors, files, the API).
  const headers = securityHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null
      }
    },
    strictTransportSecurity: config.COOKIE_SECURE && config.publicUrl.startsWith('https:')
  })
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
  await fastify.register(accepts)
  await fastify.register(formbody)

  fastify.decorateRequest('uploads', null as unknown as UploadedFile[])
  fastify.addHook('onRequest', async (request) => {
    request.uploads = []
  })
  // Whatever a handler did not keep is removed once the response is out.
  fastify.addHook('onResponse', async (request) => {
    if (request.uploads.length > 0) await store.discard(request.uploads)
  })
  // Bracket the multipart reader's own preValidation hook, so an error can tell it came from there.
  fastify.decorateRequest('readingBody', false)
  fastify.addHook('preValidation', async (request) => {
    request.readingBody = true
  })
  await fastify.register(multipart, {
    attachFieldsToBody: 'keyValues',
    throwFileSizeLimit: false,
    limits: { fileSize: config.maxAttachmentBytes, files: 10, fields: 50, fieldSize: 1024 * 1024, parts: 80 },
    async onFile(part) {
      const file = await store.receive(part.file, part.filename, part.mimetype)
      this.uploads.push(file)
      // Empty file inputs still arrive as a part: nothing to keep.
      ;(part as unknown as { value: unknown }).value = file.size === 0 && !part.filename ? undefined : file
    }
  })

  fastify.addHook('preValidation', async (request) => {
    request.readingBody = false
  })

  await fastify.register(secureSession, {
    key: sessionKey(config),
    cookieName: 'casebridge_session',
    expiry: 12 * 60 * 60,
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: config.COOKIE_SECURE }
  })
  await fastify.register(csrf, {
    sessionPlugin: '@fastify/secure-session',
    getToken: (req) => {
      const body = req.body as Record<string, unknown> | undefined
      const field = body?._csrf
      if (typeof field === 'string') return field
      return req.headers['x-csrf-token'] as string | undefined
    }
  })
  await fastify.register(rateLimit, { global: false })

  await fastify.register(view, {
    engine: { eta: new Eta() },
    templates: join(ROOT, 'views'),
    production: true,
    options: { autoEscape: true }
  } as never)
  await fastify.register(fastifyStatic, { root: join(ROOT, 'public'), prefix: '/static/', decorateReply: false, maxAge: '1h' })
}, { name: 'external' })

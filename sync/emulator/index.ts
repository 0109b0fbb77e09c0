/**
 * A Salesforce-compatible REST server: the default CRM when none is configured, and the CRM every
 * test talks to. jsforce 3.10.16 talks to it unchanged. See docs/emulator.md.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { parse as parseQueryString } from 'node:querystring'
import { registerApi, versionsList, type CallStats } from './api.js'
import { Auth } from './auth.js'
import { registerBrowser } from './browser.js'
import { createRecord, parseValues } from './dml.js'
import { OAuthError, SfError, notFound } from './errors.js'
import { Faults, type FaultCommand } from './faults.js'
import { buildSchema, type CustomFieldSpec } from './schema.js'
import { EmulatorStore } from './store.js'
import { renderNotFound } from './view.js'

export { EmulatorStore } from './store.js'
export { Faults } from './faults.js'
export type { FaultCommand, FaultState } from './faults.js'
export type { CustomFieldSpec } from './schema.js'

export interface UserSeed {
  username: string
  password?: string
  firstName?: string
  lastName: string
  email?: string
  isActive?: boolean
}

export interface EmulatorOptions {
  /** SQLite file for the emulator's own data (':memory:' for a throwaway one). */
  file: string
  /** Access tokens stop working this long after they are issued (default 2 hours). */
  tokenTtlSeconds?: number
  clock?: () => Date
  /** The connected app: only this client id and secret get tokens (there is no open default). */
  clientId: string
  clientSecret: string
  /**
   * Test mode, for tests and benchmarks only: serves the fault control over HTTP
   * (`/__emulator/faults`, a 404 otherwise) and takes JWT assertions unsigned when no
   * `jwtPublicKey` is set.
   */
  testMode?: boolean
  /**
   * Locks the users down: every CRM user signs in with this password (also users created
   * earlier on the same file, with another one) and the integration user only through the
   * connected app. Their tokens from before a change end.
   */
  crmUserPassword?: string
  /** Shown on the Case browser's sign-in page (who may sign in, where the password is). */
  loginHint?: string
  /** PEM public key that verifies JWT bearer assertions (unchecked only in test mode). */
  jwtPublicKey?: string
  /** Daily API allowance reported in Sforce-Limit-Info and /limits (default 100,000). */
  apiLimit?: number
  /** Query page size (default 2,000, as Salesforce). */
  pageSize?: number
  /** Case Status values that count as closed (default ["Closed"]). */
  closedStatuses?: string[]
  /** Emulates a Case assignment rule: new/updated Cases go to this username unless `Sforce-Auto-Assign: FALSE`. */
  autoAssignTo?: string
  customFields?: Record<string, CustomFieldSpec[]>
  /** The user client-credentials tokens run as. */
  integrationUser?: UserSeed
  /** CRM users created on first start (default: one, crm.user@casebridge.emulator / emulator). */
  users?: UserSeed[]
  /** Base URL handed out as instance_url (default: taken from each request's Host). */
  publicUrl?: string
  /** A pino logger (e.g. a child of the root logger), or true/false for Fastify's own. */
  logger?: boolean | FastifyBaseLogger
}

export interface Emulator {
  app: FastifyInstance
  store: EmulatorStore
  faults: Faults
  /** Id of the user client-credentials tokens act as. */
  integrationUserId: string
  /** API calls served, by endpoint and by `Sforce-Call-Options: client=` tag. */
  calls: CallStats
  /** Adds a CRM user who can log in with the password grant (or SOAP login), with `crmUserPassword` when set; returns the User id. */
  createUser(seed: UserSeed): string
  /** Looks up a User id by username. */
  userId(username: string): string | undefined
  /** Listens (port 0 for any free port) and returns the base URL. */
  listen(opts?: { port?: number; host?: string }): Promise<string>
  /** The base URL once listening. */
  url: string | null
  close(): Promise<void>
}

export const DEFAULT_INTEGRATION_USER: UserSeed = {
  username: 'integration@casebridge.emulator', password: 'emulator', firstName: 'Integration', lastName: 'User', email: 'integration@casebridge.emulator'
}
export const DEFAULT_CRM_USERS: UserSeed[] = [
  { username: 'crm.user@casebridge.emulator', password: 'emulator', firstName: 'Casey', lastName: 'Rivera', email: 'crm.user@casebridge.emulator' }
]

export function createEmulator(opts: EmulatorOptions): Emulator {
  if (!opts.clientId || !opts.clientSecret) throw new Error('the emulator needs clientId and clientSecret: it grants tokens to that connected app only')
  const clock = opts.clock ?? (() => new Date())
  const schema = buildSchema(opts.customFields)
  const store = new EmulatorStore(opts.file, schema)
  const userObj = schema.get('user')!
  const calls: CallStats = { total: 0, byEndpoint: {}, byClient: {} }
  const tokenTtlSeconds = opts.tokenTtlSeconds ?? 7200

  const userId = (username: string) => store.findBy(userObj, 'Username', username)[0]
  // locked down, every CRM user gets the one password and the integration user (who creates itself) none
  const passwordFor = (seed: UserSeed, isIntegration: boolean) =>
    opts.crmUserPassword === undefined ? seed.password : isIntegration ? undefined : opts.crmUserPassword

  const createUser = (seed: UserSeed, actingAs?: string): string => {
    const existing = userId(seed.username)
    if (existing) return existing
    const values = parseValues(userObj, {
      Username: seed.username, FirstName: seed.firstName ?? null, LastName: seed.lastName,
      Email: seed.email ?? seed.username, IsActive: seed.isActive ?? true
    })
    const presetId = actingAs ? undefined : store.newId(userObj)
    return store.transaction(() => {
      const id = createRecord(store, userObj, values, {
        userId: actingAs ?? presetId!, now: clock(), autoAssignOwnerId: null, closedStatuses: [], takeLockFault: () => false
      }, { autoAssign: false, presetId })
      const password = passwordFor(seed, !actingAs)
      if (password) store.setPassword(id, password)
      return id
    })
  }

  // the integration user creates itself; everyone else is created by it
  const integrationSeed = opts.integrationUser ?? DEFAULT_INTEGRATION_USER
  const integrationUserId = userId(integrationSeed.username) ?? createUser(integrationSeed)
  for (const u of opts.users ?? DEFAULT_CRM_USERS) createUser(u, integrationUserId)
  if (opts.crmUserPassword !== undefined) lockUsers(store, integrationUserId, opts.crmUserPassword)
  // tokens of another connected app (an earlier client id) end with the change
  store.dropOtherClientsTokens(opts.clientId)

  const faults = new Faults(opts.apiLimit ?? 100_000, () => store.expireAccessTokens(clock().getTime()))
  const auth = new Auth(store, {
    clientId: opts.clientId, clientSecret: opts.clientSecret, jwtPublicKey: opts.jwtPublicKey, unsignedAssertions: opts.testMode === true,
    tokenTtlSeconds, integrationUserId: () => integrationUserId
  }, clock)
  store.purgeExpiredTokens(clock().getTime() - 86_400_000)

  const common = { routerOptions: { ignoreTrailingSlash: true }, bodyLimit: 50 * 1024 * 1024 }
  const app: FastifyInstance = typeof opts.logger === 'object'
    ? Fastify({ ...common, loggerInstance: opts.logger })
    : Fastify({ ...common, logger: opts.logger ?? false })

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseQueryString(body as string))
  })
  app.addContentTypeParser(['text/xml', 'application/xml'], { parseAs: 'string' }, (_req, body, done) => done(null, body))

  app.setErrorHandler((err: Error, req, reply) => {
    if (err instanceof SfError) return reply.code(err.status).send(err.toBody())
    if (err instanceof OAuthError) return reply.code(err.status).send({ error: err.error, error_description: err.message })
    const status = (err as { statusCode?: number }).statusCode
    if (status && status >= 400 && status < 500) {
      const code = /JSON|body/i.test(err.message) ? 'JSON_PARSER_ERROR' : 'INVALID_REQUEST'
      return reply.code(400).send([{ message: err.message, errorCode: code }])
    }
    req.log.error({ err }, 'emulator error')
    return reply.code(500).send([{ message: 'An unexpected error occurred. Please include this ErrorId if you contact support: emulator', errorCode: 'UNKNOWN_EXCEPTION' }])
  })

  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/services/')) return reply.code(404).send(notFound().toBody())
    return reply.code(404).type('text/html; charset=utf-8').send(renderNotFound())
  })

  const isControl = (url: string) => url.startsWith('/__emulator/')

  // latency and outages apply to everything but the control endpoints
  app.addHook('onRequest', async (req, reply) => {
    if (isControl(req.url)) return
    if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs))
    if (faults.isDown) {
      return reply.code(503).send([{ message: 'Service Unavailable: the server is down for maintenance.', errorCode: 'SERVER_UNAVAILABLE' }])
    }
  })

  const baseUrl = (req: { protocol: string; host: string }) => opts.publicUrl ?? `${req.protocol}://${req.host}`

  // ------------------------------------------------------------ OAuth, SOAP login, identity

  app.post('/services/oauth2/token', async (req) => {
    const params = (req.body ?? {}) as Record<string, string | undefined>
    return auth.token(params, baseUrl(req))
  })

  app.post('/services/oauth2/revoke', async (req, reply) => {
    const params = { ...(req.query as Record<string, string>), ...((req.body ?? {}) as Record<string, string>) }
    if (params.token) auth.revoke(params.token)
    return reply.code(200).send()
  })

  app.get('/services/oauth2/authorize', async (req, reply) => {
    return reply.redirect(auth.authorizeCode(req.query as Record<string, string | undefined>))
  })

  app.post('/services/Soap/u/:version', async (req, reply) => soap(req.params as { version: string }, String(req.body ?? ''), reply, baseUrl(req)))
  app.post('/services/Soap/u/:version/:org', async (req, reply) => soap(req.params as { version: string }, String(req.body ?? ''), reply, baseUrl(req)))
  function soap(params: { version: string }, body: string, reply: import('fastify').FastifyReply, base: string) {
    const res = auth.soap(body, base, params.version)
    return reply.code(res.status).type('text/xml; charset=utf-8').send(res.body)
  }

  app.get('/id/:org/:user', async (req) => {
    const q = req.query as Record<string, string | undefined>
    const caller = auth.userForToken(req.headers.authorization, q.oauth_token)
    if (!caller) throw new SfError(403, 'Bad_OAuth_Token', 'Bad_OAuth_Token')
    const { user } = req.params as { org: string; user: string }
    const rec = store.get(user)
    if (!rec || rec.type !== 'User') throw notFound()
    const base = baseUrl(req)
    const u = rec.data
    return {
      id: `${base}/id/${store.orgId}/${rec.id}`, asserted_user: caller === rec.id, user_id: rec.id, organization_id: store.orgId,
      username: u.Username, nick_name: u.Alias, display_name: u.Name, email: u.Email, first_name: u.FirstName, last_name: u.LastName,
      active: u.IsActive !== false, user_type: 'STANDARD', language: 'en_US', locale: 'en_US', utcOffset: 0,
      urls: { rest: `${base}/services/data/v{version}/`, sobjects: `${base}/services/data/v{version}/sobjects/`, query: `${base}/services/data/v{version}/query/` }
    }
  })

  // ------------------------------------------------------------ REST API

  app.get('/services/data', async () => versionsList())

  const autoAssignOwner = () => (opts.autoAssignTo ? userId(opts.autoAssignTo) ?? null : null)
  void app.register(async (api) => {
    registerApi(api, {
      store, faults, auth, clock, calls,
      pageSize: opts.pageSize ?? 2000,
      closedStatuses: opts.closedStatuses ?? ['Closed'],
      autoAssignOwnerId: autoAssignOwner,
      baseUrl
    })
  })

  // ------------------------------------------------------------ HTML view and fault control

  registerBrowser(app, { store, loginHint: opts.loginHint })

  // anyone who reaches the port could take the CRM down: only a test double offers it
  if (opts.testMode === true) {
    app.get('/__emulator/faults', async () => faults.state())
    app.post('/__emulator/faults', async (req, reply) => {
      const cmd = (req.body ?? {}) as FaultCommand
      if (cmd.down !== 'refuse') return faults.apply(cmd)
      // closing the socket now would cut off this very answer: refuse once it has been sent
      const state = await faults.apply({ ...cmd, down: undefined })
      reply.raw.once('finish', () => {
        faults.down('refuse', typeof cmd.downForMs === 'number' ? cmd.downForMs : undefined).catch((err: Error) => req.log.error({ err }, 'could not go down'))
      })
      return { ...state, down: 'refuse' }
    })
  }

  let url: string | null = null
  let listening: { port: number; host: string } | null = null

  faults.listener = {
    close: async () => {
      await new Promise<void>((resolve) => {
        app.server.close(() => resolve())
        app.server.closeAllConnections()
      })
      // let clients in this process notice their pooled keep-alive sockets are gone
      await new Promise((r) => setTimeout(r, 10))
    },
    reopen: () => new Promise<void>((resolve, reject) => {
      if (!listening) return resolve()
      app.server.once('error', reject)
      app.server.listen(listening.port, listening.host, () => {
        app.server.off('error', reject)
        resolve()
      })
    })
  }

  const emulator: Emulator = {
    app,
    store,
    faults,
    integrationUserId,
    calls,
    createUser: (seed) => createUser(seed, integrationUserId),
    userId,
    get url() { return url },
    async listen(l = {}) {
      const host = l.host ?? '127.0.0.1'
      await app.listen({ port: l.port ?? 0, host })
      const addr = app.server.address()
      const port = typeof addr === 'object' && addr ? addr.port : l.port ?? 0
      listening = { port, host }
      url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
      return url
    },
    async close() {
      if (faults.isDown === 'refuse') await faults.up()
      faults.dispose()
      await app.close()
      store.close()
    }
  }
  return emulator
}

/** Every CRM user signs in with `password`; the integration user with none. A user whose password changes loses their sessions. */
function lockUsers(store: EmulatorStore, integrationUserId: string, password: string): void {
  for (const user of store.list('User')) {
    if (user.id === integrationUserId) {
      if (!store.hasPassword(user.id)) continue
      store.dropPassword(user.id)
    } else {
      if (store.checkPassword(user.id, password)) continue
      store.setPassword(user.id, password)
    }
    store.dropUserTokens(user.id)
  }
}

/** Creates the emulator and listens on `port` (0 for any free port). */
export async function startEmulator(opts: Omit<EmulatorOptions, 'file'> & { file: string; port?: number; host?: string }): Promise<Emulator> {
  const emulator = createEmulator(opts)
  await emulator.listen({ port: opts.port, host: opts.host })
  return emulator
}

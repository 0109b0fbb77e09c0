/**
 * The Case browser (`/`, `/cases/:id`): every Case and comment, so only a signed-in CRM user of
 * the emulator sees it. The sign-in lives in the emulator's own encrypted cookie (HttpOnly,
 * SameSite=Lax), named apart from Casebridge's: cookies do not keep to a port, and the portal on
 * the same host would otherwise receive it.
 */
import secureSession from '@fastify/secure-session'
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { EmulatorStore } from './store.js'
import { renderCase, renderCaseList, renderLogin, renderNotFound } from './view.js'

declare module '@fastify/secure-session' {
  interface SessionData {
    /** The CRM user signed in to the emulator's Case browser. */
    crmUserId: string
  }
}

export const BROWSER_COOKIE = 'casebridge_emulator_session'
const SESSION_SECONDS = 12 * 60 * 60
const WRONG_LOGIN = 'Wrong username or password.'

export interface BrowserOptions {
  store: EmulatorStore
  /** Shown on the sign-in page: who may sign in and where the password is. */
  loginHint?: string
}

/** Where to go after signing in: one of the browser's own pages, never another site. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?:cases\/[A-Za-z0-9]{15,18})?(?:\?page=\d{1,6})?$/.test(next) ? next : '/'
}

/** The cookie key, made once per emulator file so sign-ins survive a restart. */
function sessionKey(store: EmulatorStore): Buffer {
  const kept = store.meta('browserSessionKey')
  if (kept) return Buffer.from(kept, 'base64')
  const key = randomBytes(32)
  store.setMeta('browserSessionKey', key.toString('base64'))
  return key
}

const text = (v: unknown) => (typeof v === 'string' ? v : '')

function html(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body)
}

/** Registers the sign-in pages and the Case pages, in their own scope (the API never reads the cookie). */
export function registerBrowser(app: FastifyInstance, opts: BrowserOptions): void {
  const { store } = opts
  const userObj = store.schema.get('user')!

  /** An active CRM user who (still) signs in with a password; the integration user of a locked emulator has none. */
  const canSignIn = (id: string | undefined): id is string => {
    const rec = id ? store.get(id) : undefined
    return !!rec && rec.type === 'User' && rec.data.IsActive !== false && store.hasPassword(rec.id)
  }

  /** The signed-in user's name, or null. */
  const viewer = (req: FastifyRequest): string | null => {
    const id = req.session.get('crmUserId')
    if (!canSignIn(id)) return null
    const u = store.get(id)!.data
    return String(u.Name ?? u.Username)
  }

  const toLogin = (req: FastifyRequest, reply: FastifyReply) => reply.redirect(`/login?next=${encodeURIComponent(safeNext(req.url))}`)

  void app.register(async (browser) => {
    await browser.register(secureSession, {
      key: sessionKey(store),
      cookieName: BROWSER_COOKIE,
      expiry: SESSION_SECONDS,
      cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' }
    })

    browser.get('/login', async (req, reply) => {
      const next = safeNext((req.query as { next?: unknown }).next)
      if (viewer(req)) return reply.redirect(next)
      return html(reply, 200, renderLogin({ next, hint: opts.loginHint }))
    })

    browser.post('/login', async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>
      const username = text(body.username).trim()
      const next = safeNext(body.next)
      const id = username ? store.findBy(userObj, 'Username', username)[0] : undefined
      if (!canSignIn(id) || !store.checkPassword(id, text(body.password))) {
        return html(reply, 401, renderLogin({ next, username, hint: opts.loginHint, error: WRONG_LOGIN }))
      }
      req.session.regenerate()
      req.session.set('crmUserId', id)
      return reply.redirect(next, 303)
    })

    browser.post('/logout', async (req, reply) => {
      req.session.delete()
      return reply.redirect('/login', 303)
    })

    browser.get('/', async (req, reply) => {
      const who = viewer(req)
      if (!who) return toLogin(req, reply)
      const pageNo = Number((req.query as { page?: string }).page ?? 1) || 1
      return html(reply, 200, renderCaseList(store, pageNo, who))
    })

    browser.get('/cases/:id', async (req, reply) => {
      const who = viewer(req)
      if (!who) return toLogin(req, reply)
      const page = renderCase(store, (req.params as { id: string }).id, who)
      return page ? html(reply, 200, page) : html(reply, 404, renderNotFound())
    })
  })
}

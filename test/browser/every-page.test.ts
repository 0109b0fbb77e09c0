import t from 'tap'
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { launch } from './lifecycle-helpers.js'
import { Secret, TOTP } from 'otpauth'
import { testApp, loginAs, DEMO_PASSWORDS, type TestEnv } from '../helpers/app.js'
import { translator } from '../../src/i18n/index.js'
import { ROOT } from '../helpers/root.js'
import { composeMail, mailSettings } from '../../src/mail/compose.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { loadStaffActor } from '../../src/db/people.js'
import { personWho, unwrap } from '../../src/commands/kernel.js'
import { queueBulkJob } from '../../src/commands/bulk.js'
import { requestPasswordReset } from '../../src/commands/account-links.js'
import { startTwoFactor, confirmTwoFactor } from '../../src/commands/two-factor.js'
import { quarantineEmail } from '../../src/commands/mail-intake.js'
import { addCannedResponse } from '../../src/commands/canned.js'
import { seedDemoKnowledge } from '../../src/commands/demo-kb.js'
import { createArticle, editArticle } from '../../src/commands/kb.js'
import { performTransition } from '../../src/commands/lifecycle/index.js'

// Every page of the product, for every role, at a phone's, a tablet's and a laptop's width:
// no horizontal page scroll, no text drawn over other text, and (at 1366 px) no serious or
// critical axe-core violation of WCAG 2.2 A/AA. To cover a new page, add it to PAGES below
// (an id it needs comes from Fixtures, made once from the demo data).
// The 375 px views of the four main pages go to test/.artifacts/mobile-*.png (README screenshots).
const ARTIFACTS = join(ROOT, 'test/.artifacts')
const WIDTHS = [375, 768, 1366] as const
const AXE_WIDTH = 1366
/** At this width every table fits without scrolling inside its box (the staff queue's columns included). */
const WIDE = 1366
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const en = translator('en')

/** The -pt roles browse in Portuguese (longer words: the lists must still fit). */
type Role = 'anonymous' | 'client' | 'staff' | 'admin' | 'second-factor' | 'client-pt' | 'admin-pt'

interface Fixtures {
  /** Ticket numbers: the demo's first (with a staff reply), a long-titled one, and a request awaiting approval. */
  ticket: number
  longTicket: number
  /** Globex's (Hank's invoice), for its Portuguese-speaking manager. */
  globexTicket: number
  approvalToken: string
  resetPath: string
  bulkJob: number
  canned: number
  calendar: number
  quarantine: number
  mail: number
  listItem: number
  /** Knowledge base: the demo's articles; an English one and its translation (client addresses), a category, a draft with two versions, a resolved ticket's id. */
  article: { id: number; path: string }
  articlePt: { id: number; path: string }
  kbCategory: { id: number; path: string }
  draft: number
  resolvedTicketId: number
  ids: TestEnv['ids']
}

interface PageCase {
  role: Role
  path: (f: Fixtures) => string
  /** What to do after opening the page (e.g. send a form empty to see its errors). */
  act?: (page: Page) => Promise<void>
  name?: string
  /** Saved at 375 px as test/.artifacts/mobile-<shot>.png. */
  shot?: string
  /** The answer's status when it is not 200 (error pages). */
  status?: number
}

const at = (role: Role, path: string | ((f: Fixtures) => string), extra: Omit<PageCase, 'role' | 'path'> = {}): PageCase =>
  ({ role, path: typeof path === 'string' ? () => path : path, ...extra })

const submitEmpty = (button: string) => async (page: Page) => {
  await page.locator('form[novalidate], form').filter({ has: page.getByRole('button', { name: button, exact: true }) }).first()
    .evaluate((form: HTMLFormElement) => { for (const el of Array.from(form.elements)) if ('required' in el) (el as HTMLInputElement).required = false })
  await page.getByRole('button', { name: button, exact: true }).first().click()
  await page.waitForLoadState()
}

// Read from the route files under src/routes (auth, portal, desk, exports, approvals, admin).
// Not pages: the live streams (/…/live), downloads (attachments, exports, quarantined originals), /healthz, /readyz, /api.
const PAGES: PageCase[] = [
  at('anonymous', '/login'),
  at('anonymous', '/login', { name: 'login with errors', act: submitEmpty(en('auth.login.submit')) }),
  at('anonymous', '/password/forgot'),
  at('anonymous', (f) => f.resetPath, { name: '/password/reset/:token' }),
  at('anonymous', (f) => f.resetPath, { name: '/password/reset/:token with errors', act: submitEmpty(en('recovery.setPassword')) }),
  at('anonymous', '/password/reset/not-a-token-we-ever-sent', { name: 'link problem', status: 404 }),
  at('anonymous', (f) => `/approvals/${f.approvalToken}`, { name: '/approvals/:token' }),
  at('anonymous', '/no-such-page', { name: 'not found', status: 404 }),
  at('second-factor', '/login/two-factor'),

  at('client', '/portal', { shot: 'portal-list' }),
  at('client', '/portal?q=printer', { name: '/portal (searched)' }),
  at('client', '/portal/tickets/new'),
  at('client', '/portal/tickets/new', { name: 'portal new ticket with errors', act: submitEmpty(en('portal.new.save')) }),
  at('client', (f) => `/portal/tickets/${f.ticket}`, { name: '/portal/tickets/:number', shot: 'portal-ticket' }),
  at('client', (f) => `/portal/tickets/${f.longTicket}`, { name: '/portal/tickets/:number (long title)' }),
  at('client', (f) => `/portal/tickets/${f.ticket}/history`, { name: '/portal/tickets/:number/history' }),
  at('client', (f) => `/portal/tickets/${f.ticket}/occurrences`, { name: '/portal/tickets/:number/occurrences' }),
  at('client', '/help'),
  at('client', '/help/search?q=printer', { name: '/help/search (found)' }),
  at('client', '/help/search?q=zzzzqx', { name: '/help/search (nothing found)' }),
  at('client', (f) => f.kbCategory.path, { name: '/help/categories/:id-:slug' }),
  at('client', (f) => f.article.path, { name: '/help/articles/:id-:slug' }),
  at('client', (f) => `${f.article.path}?from=suggest`, { name: '/help/articles/:id-:slug from a suggestion' }),
  at('client', '/portal/tickets/new', {
    name: 'portal new ticket, help center first (no script)',
    act: async (page) => {
      await page.getByLabel(en('ticket.title'), { exact: true }).fill('Printer toner warning')
      // The button sits beside the form (form="new-ticket-form"); the fields left empty are not required for this step.
      await page.locator('#new-ticket-form').evaluate((form: HTMLFormElement) => { for (const el of Array.from(form.elements)) if ('required' in el) (el as HTMLInputElement).required = false })
      await page.getByRole('button', { name: en('help.suggest.first'), exact: true }).click()
      await page.waitForLoadState()
    }
  }),
  at('client', '/exports'),
  at('client', '/account'),
  at('client', '/account', { name: '/account with errors', act: submitEmpty(en('auth.password.submit')) }),

  at('staff', '/desk', { shot: 'desk-queue' }),
  at('staff', '/desk?scope=desks', { name: '/desk (my desks)' }),
  at('staff', (f) => `/desk/tickets/${f.ticket}`, { name: '/desk/tickets/:number', shot: 'desk-ticket' }),
  at('staff', (f) => `/desk/tickets/${f.longTicket}`, { name: '/desk/tickets/:number (long title)' }),
  at('staff', (f) => `/desk/tickets/${f.ticket}`, { name: '/desk/tickets/:number, reply with errors', act: submitEmpty(en('desk.reply.submit')) }),
  at('staff', (f) => `/desk/tickets/${f.ticket}/history`, { name: '/desk/tickets/:number/history' }),
  at('staff', (f) => `/desk/tickets/${f.ticket}/occurrences`, { name: '/desk/tickets/:number/occurrences' }),
  at('staff', (f) => `/desk/tickets/${f.ticket}/confirm/close`, { name: '/desk/tickets/:number/confirm/close (refused: not resolved)', status: 409 }),
  at('staff', '/desk/tickets/new', { name: '/desk/tickets/new (pick a contact)' }),
  at('staff', '/desk/tickets/new?q=bob', { name: '/desk/tickets/new (contacts found)' }),
  at('staff', (f) => `/desk/tickets/new?contact=${f.ids.contact['bob@acme.test']}`, { name: '/desk/tickets/new?contact=:id' }),
  at('staff', (f) => `/desk/tickets/new?contact=${f.ids.contact['bob@acme.test']}`, { name: '/desk/tickets/new with errors', act: submitEmpty(en('desk.new.submit')) }),
  at('staff', '/desk/dashboard'),
  at('staff', '/desk/summary'),
  at('staff', '/desk/canned'),
  at('staff', '/desk/canned', { name: '/desk/canned with errors', act: submitEmpty(en('desk.canned.add')) }),
  at('staff', (f) => `/desk/canned/${f.canned}`, { name: '/desk/canned/:id' }),
  at('staff', '/desk/views'),
  at('staff', '/desk/notifications'),
  at('staff', (f) => `/desk/bulk/${f.bulkJob}`, { name: '/desk/bulk/:id' }),
  at('staff', '/desk/kb'),
  at('staff', '/desk/kb?state=in_review', { name: '/desk/kb (review queue)' }),
  at('staff', '/desk/kb/new'),
  at('staff', '/desk/kb/new', { name: '/desk/kb/new with errors', act: submitEmpty(en('kbDesk.editor.saveDraft')) }),
  at('staff', (f) => `/desk/kb/new?ticket=${f.resolvedTicketId}`, { name: '/desk/kb/new?ticket=:id (from a resolved ticket)' }),
  at('staff', (f) => `/desk/kb/${f.article.id}`, { name: '/desk/kb/:id' }),
  at('staff', (f) => `/desk/kb/${f.draft}`, { name: '/desk/kb/:id (draft)' }),
  at('staff', (f) => `/desk/kb/${f.draft}/edit`, { name: '/desk/kb/:id/edit' }),
  at('staff', (f) => `/desk/kb/${f.draft}/versions`, { name: '/desk/kb/:id/versions' }),
  at('staff', (f) => `/desk/kb/${f.draft}/diff?from=1&to=2`, { name: '/desk/kb/:id/diff' }),
  at('staff', (f) => `/desk/tickets/${f.ticket}?insert=${f.article.id}&as=text`, { name: '/desk/tickets/:number?insert (reply filled in)' }),
  at('staff', (f) => f.article.path, { name: '/help/articles/:id-:slug (staff)' }),
  at('staff', '/exports'),
  at('staff', '/account'),
  at('staff', '/account/two-factor'),

  at('admin', '/admin'),
  at('admin', '/admin/settings'),
  at('admin', '/admin/sla'),
  at('admin', '/admin/sla/items'),
  at('admin', (f) => `/admin/sla/items/${f.ids.category['New user account']}`, { name: '/admin/sla/items/:id' }),
  at('admin', '/admin/calendars'),
  at('admin', '/admin/calendars/new'),
  at('admin', '/admin/calendars/new', { name: '/admin/calendars/new with errors', act: submitEmpty(en('common.save')) }),
  at('admin', (f) => `/admin/calendars/${f.calendar}`, { name: '/admin/calendars/:id' }),
  at('admin', '/admin/accounts'),
  at('admin', '/admin/accounts/import'),
  at('admin', (f) => `/admin/accounts/${f.ids.account['Acme Corporation']}`, { name: '/admin/accounts/:id' }),
  at('admin', (f) => `/admin/contacts/${f.ids.contact['bob@acme.test']}`, { name: '/admin/contacts/:id' }),
  at('admin', (f) => `/admin/contacts/${f.ids.contact['carol@acme.test']}/merge?email=jane%40initech.test`, { name: '/admin/contacts/:id/merge' }),
  at('admin', '/admin/staff'),
  at('admin', '/admin/staff/new'),
  at('admin', '/admin/staff/new', { name: '/admin/staff/new with errors', act: submitEmpty(en('admin.staff.addAndInvite')) }),
  at('admin', (f) => `/admin/staff/${f.ids.staff['ana@casebridge.test']}`, { name: '/admin/staff/:id' }),
  at('admin', '/admin/desks'),
  at('admin', '/admin/desks/new'),
  at('admin', (f) => `/admin/desks/${f.ids.desk['Service Desk']}`, { name: '/admin/desks/:id' }),
  at('admin', '/admin/products'),
  at('admin', (f) => `/admin/products/${f.ids.product['Casebridge Cloud']}`, { name: '/admin/products/:id' }),
  at('admin', '/admin/catalog'),
  at('admin', '/admin/catalog/entries'),
  at('admin', (f) => `/admin/catalog/entries/${f.ids.category['New user account']}`, { name: '/admin/catalog/entries/:id' }),
  at('admin', '/admin/lists'),
  at('admin', '/admin/lists/closure_category'),
  at('admin', (f) => `/admin/lists/closure_category/${f.listItem}`, { name: '/admin/lists/:list/:id' }),
  at('admin', '/admin/mail'),
  at('admin', (f) => `/admin/mail/${f.mail}`, { name: '/admin/mail/:id' }),
  at('admin', '/admin/quarantine'),
  at('admin', (f) => `/admin/quarantine/${f.quarantine}`, { name: '/admin/quarantine/:id' }),
  at('admin', '/admin/security'),
  at('admin', '/admin/audit'),
  at('admin', '/admin/sync'),
  at('admin', '/admin/kb/categories'),
  at('admin', (f) => `/admin/kb/categories/${f.kbCategory.id}`, { name: '/admin/kb/categories/:id' }),
  at('admin', '/desk', { name: '/desk (admin)' }),
  at('admin', (f) => `/desk/tickets/${f.longTicket}/confirm/delete`, { name: '/desk/tickets/:number/confirm/delete' }),
  at('admin', (f) => `/desk/tickets/${f.ticket}`, { name: '/desk/tickets/:number (admin)' }),

  at('client-pt', '/portal'),
  at('client-pt', (f) => `/portal/tickets/${f.globexTicket}`, { name: '/portal/tickets/:number' }),
  at('client-pt', '/help'),
  at('client-pt', (f) => f.articlePt.path, { name: '/help/articles/:id-:slug' }),
  at('admin-pt', '/desk'),
  at('admin-pt', (f) => `/desk/tickets/${f.ticket}`, { name: '/desk/tickets/:number' }),
  at('admin-pt', '/admin/staff'),
  at('admin-pt', '/admin/mail')
]

const LOGINS: Record<Exclude<Role, 'anonymous'>, { email: string; password: string }> = {
  // Acme's account manager: her list has the requester column, and the demo's first ticket (with a staff reply) is hers.
  client: { email: 'alice@acme.test', password: DEMO_PASSWORDS.client },
  staff: { email: 'ana@casebridge.test', password: DEMO_PASSWORDS.staff },
  admin: { email: 'admin@casebridge.test', password: DEMO_PASSWORDS.admin },
  'second-factor': { email: 'carla@casebridge.test', password: DEMO_PASSWORDS.staff },
  // Globex's manager, whose own language setting is Portuguese.
  'client-pt': { email: 'gina@globex.test', password: DEMO_PASSWORDS.client },
  'admin-pt': { email: 'admin@casebridge.test', password: DEMO_PASSWORDS.admin }
}
const SECOND_FACTOR_LOGIN = LOGINS['second-factor'].email


/** What the demo data lacks for some pages, made through the commands and forms a person would use. */
async function makeFixtures(env: TestEnv): Promise<Fixtures> {
  const { app, db, ids, config } = env
  const deps = { db, clock: () => new Date(), random: Math.random }
  const bob = await loginAs(app, 'bob@acme.test')
  const longTitle = 'Our quarterly reconciliation export to the finance warehouse fails with ERR_RECONCILIATION_BATCH_CHECKSUM_MISMATCH_IN_SEGMENT_0042 after about forty minutes'
  const opened = await bob.postMultipart('/portal/tickets', {
    product_id: String(ids.product['Casebridge Cloud']), priority: 'high', title: longTitle,
    description: 'It started after the upgrade. The job log says: https://warehouse.acme.test/jobs/2026-12-07/reconciliation/segment-0042/attempt-3/log?verbose=true&trace=full'
  }, [], { csrfFrom: '/portal/tickets/new' })
  if (opened.statusCode !== 302) throw new Error(`opening the long-titled ticket failed: ${opened.statusCode}`)
  const request = await bob.postMultipart('/portal/tickets', {
    category_id: String(ids.category['New user account']), title: 'Account for our new hire', description: 'Maria starts on Monday in Finance.'
  }, [], { csrfFrom: '/portal/tickets/new' })
  if (request.statusCode !== 302) throw new Error(`opening the approval request failed: ${request.statusCode}`)
  const tickets = await db.selectFrom('ticket').select(['id', 'number', 'title']).orderBy('id').execute()
  const first = tickets[0]
  const long = tickets.find((r) => r.title === longTitle)!
  const awaiting = tickets[tickets.length - 1]

  const approvalRow = await db.selectFrom('mail_outbox').selectAll().where('ticket_id', '=', awaiting.id).where('template', '=', 'ticket.approval_request').executeTakeFirstOrThrow()
  const approveUrl = /\/approvals\/([A-Za-z0-9_-]+)#approve/.exec(composeMail(approvalRow, mailSettings(config), mailTokenKey(config), 'test').text)
  if (!approveUrl) throw new Error('no approval link in the approval mail')

  unwrap(await requestPasswordReset(deps, { email: 'jane@initech.test', client: { ip: '127.0.0.1', userAgent: 'test' } }))
  const resetRow = await db.selectFrom('mail_outbox').selectAll().where('template', '=', 'account.password_reset').executeTakeFirstOrThrow()
  const resetPath = (typeof resetRow.data === 'string' ? JSON.parse(resetRow.data) : resetRow.data).linkPath as string

  const ana = personWho((await loadStaffActor(db, ids.staff['ana@casebridge.test']))!)
  const bulk = unwrap(await queueBulkJob(deps, ana, { action: 'pick_up', params: { assigneeId: null, deskId: null, priority: '', closureCategory: '', note: '' }, targets: tickets.slice(0, 3).map((r) => ({ id: r.id, number: r.number, title: r.title })) }))
  const canned = unwrap(await addCannedResponse(deps, ana, { deskId: null, title: 'Printer jams: first checks', bodyEn: 'Please open the rear tray and remove any paper left there.', bodyPt: 'Abra a bandeja traseira e retire o papel que ficou.' }))

  const admin = await loginAs(app, 'admin@casebridge.test')
  const hours: Record<string, string> = {}
  for (let d = 0; d < 7; d++) hours[`hours_${d}`] = d >= 1 && d <= 5 ? '9:00-18:00' : ''
  const made = await admin.post('/admin/calendars', { name: 'Lisbon office', time_zone: 'Europe/Lisbon', holidays: '2027-12-25 Christmas', ...hours }, { csrfFrom: '/admin/calendars/new' })
  if (made.statusCode !== 302) throw new Error(`making a calendar failed: ${made.statusCode}`)
  const calendar = await db.selectFrom('business_calendar').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()

  const raw = Buffer.from('From: x@x.test\r\nSubject: Win a prize\r\n\r\nbuy now\r\n')
  const kept = await app.store.keepBuffer('message.eml', 'message/rfc822', raw)
  const { quarantineId } = await quarantineEmail(deps, {
    mailbox: 'INBOX', uidValidity: '1', uid: 7, messageId: '<q@x.test>', reason: 'unknown_sender', detail: '', from: 'x@x.test',
    subject: 'Win a prize', ticketId: null, rawSha256: kept.sha256, rawSize: raw.length
  })
  const mail = await db.selectFrom('mail_outbox').select('id').orderBy('id').executeTakeFirstOrThrow()
  const listItem = await db.selectFrom('list_item').select('id').where('list', '=', 'closure_category').orderBy('id').executeTakeFirstOrThrow()

  // A staff member with a second factor, for the page that asks for it.
  const carla = personWho((await loadStaffActor(db, ids.staff[SECOND_FACTOR_LOGIN]))!)
  const { secret } = unwrap(await startTwoFactor(deps, carla))
  const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate()
  unwrap(await confirmTwoFactor(deps, carla, { code, client: { ip: '127.0.0.1', userAgent: 'test' } }))

  // The demo's knowledge base, a draft with a second version, and a resolved ticket to write an article from.
  await seedDemoKnowledge(db, deps, ids.staff['ana@casebridge.test'])
  const kb = await db.selectFrom('kb_article').select(['id', 'slug', 'language', 'category_id']).where('audience', '=', 'public').orderBy('id').execute()
  const english = kb.find((a) => a.language === 'en')!
  const portuguese = kb.find((a) => a.language === 'pt-BR')!
  const kbCategory = await db.selectFrom('kb_category').select(['id', 'slug']).where('id', '=', english.category_id!).executeTakeFirstOrThrow()
  const draftInput = { language: 'en', title: 'Laptop battery drains overnight', body: 'Turn off **wake on LAN** in the power settings.', tags: 'laptop, battery', categoryId: null, audience: 'public', accountIds: [], translationOf: null }
  const draft = unwrap(await createArticle(deps, ana, draftInput))
  unwrap(await editArticle(deps, ana, draft.id, { ...draftInput, body: 'Turn off **wake on LAN** and **modern standby** in the power settings, then update the BIOS.', note: 'Modern standby too', version: 1 }))
  const toResolve = tickets[1]
  const assignee = (await db.selectFrom('ticket').select('assignee_id').where('id', '=', toResolve.id).executeTakeFirstOrThrow()).assignee_id!
  const resolver = personWho((await loadStaffActor(db, assignee))!)
  unwrap(await performTransition(deps, resolver, 'pick_up', { ticketId: toResolve.id }))
  unwrap(await performTransition(deps, resolver, 'resolve', { ticketId: toResolve.id, resolution: 'Replaced the toner and reset the counter from the maintenance menu.' }))

  return {
    article: { id: english.id, path: `/help/articles/${english.id}-${english.slug}` },
    articlePt: { id: portuguese.id, path: `/help/articles/${portuguese.id}-${portuguese.slug}` },
    kbCategory: { id: kbCategory.id, path: `/help/categories/${kbCategory.id}-${kbCategory.slug}` },
    draft: draft.id, resolvedTicketId: toResolve.id,
    ticket: first.number, longTicket: long.number, globexTicket: tickets.find((r) => r.title.startsWith('Invoice'))!.number, approvalToken: approveUrl[1], resetPath, bulkJob: bulk.jobId, canned: canned.id,
    calendar: calendar.id, quarantine: quarantineId, mail: mail.id, listItem: listItem.id, ids
  }
}

interface Layout { overflow: string | null; overlaps: string[]; scrollingTables: string[] }

/** Runs in the page: horizontal overflow (and what sticks out), and text boxes drawn over each other. */
function inspectLayout(): Layout {
  const describe = (el: Element): string => {
    const id = el.id ? `#${el.id}` : ''
    const cls = typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : ''
    const text = (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 40)
    return `<${el.tagName.toLowerCase()}${id}${cls}>${text ? ` "${text}"` : ''}`
  }
  const root = document.documentElement
  let overflow: string | null = null
  if (root.scrollWidth > root.clientWidth) {
    const wide: string[] = []
    for (const el of Array.from(document.body.querySelectorAll('*'))) {
      const r = el.getBoundingClientRect()
      if (!el.checkVisibility()) continue
      if (r.right > root.clientWidth + 1 && r.width > 0 && !Array.from(el.children).some((c) => c.getBoundingClientRect().right > root.clientWidth + 1)) wide.push(describe(el))
      if (wide.length >= 3) break
    }
    overflow = `scrollWidth ${root.scrollWidth} > clientWidth ${root.clientWidth}; sticking out: ${wide.join(', ') || '(nothing found)'}`
  }

  // One box per line of text, clipped by the element itself and every scrolling or clipping ancestor
  // (a visually hidden label is a 1 px clipped box, so it counts for nothing).
  interface Box { el: Element; l: number; t: number; r: number; b: number }
  const boxes: Box[] = []
  const clipOf = (el: Element): DOMRect | null => {
    let clip: { l: number; t: number; r: number; b: number } | null = null
    for (let p: Element | null = el; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p)
      if (s.overflowX !== 'visible' || s.overflowY !== 'visible' || s.clip !== 'auto') {
        const r = p.getBoundingClientRect()
        clip = clip ? { l: Math.max(clip.l, r.left), t: Math.max(clip.t, r.top), r: Math.min(clip.r, r.right), b: Math.min(clip.b, r.bottom) } : { l: r.left, t: r.top, r: r.right, b: r.bottom }
      }
    }
    return clip ? new DOMRect(clip.l, clip.t, clip.r - clip.l, clip.b - clip.t) : null
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent || !n.textContent.trim()) continue
    const el = n.parentElement
    if (!el || el.closest('script, style, template, noscript, dialog:not([open]), [hidden], [aria-hidden=true] svg')) continue
    // Not drawn: hidden, transparent, or inside a closed <details> (whose boxes Chromium still reports).
    if (!el.checkVisibility({ contentVisibilityAuto: true, opacityProperty: true, visibilityProperty: true })) continue
    const range = document.createRange()
    range.selectNodeContents(n)
    const clip = clipOf(el)
    for (const r of Array.from(range.getClientRects())) {
      let l = r.left, t = r.top, rr = r.right, b = r.bottom
      if (clip) { l = Math.max(l, clip.left); t = Math.max(t, clip.top); rr = Math.min(rr, clip.right); b = Math.min(b, clip.bottom) }
      if (rr - l >= 2 && b - t >= 2) boxes.push({ el, l, t, r: rr, b })
    }
  }
  const overlaps: string[] = []
  const seen = new Set<string>()
  for (let i = 0; i < boxes.length && overlaps.length < 5; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], c = boxes[j]
      if (a.el === c.el || a.el.contains(c.el) || c.el.contains(a.el)) continue
      const w = Math.min(a.r, c.r) - Math.max(a.l, c.l)
      const h = Math.min(a.b, c.b) - Math.max(a.t, c.t)
      // A few pixels of touching line boxes is typography, not overlap.
      if (w <= 3 || h <= 3) continue
      const key = `${describe(a.el)} / ${describe(c.el)}`
      if (seen.has(key)) continue
      seen.add(key)
      overlaps.push(`${key} (${Math.round(w)}×${Math.round(h)} px at ${Math.round(Math.max(a.l, c.l))},${Math.round(Math.max(a.t, c.t) + window.scrollY)})`)
      if (overlaps.length >= 5) break
    }
  }
  // A table that scrolls inside its own box: allowed on narrow screens, not on a laptop's.
  const scrollingTables = Array.from(document.querySelectorAll('table'))
    .map((table) => table.parentElement!)
    .filter((box) => box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== 'visible')
    .map((box) => `${describe(box.querySelector('table')!)} is ${box.scrollWidth} px wide in ${box.clientWidth} px`)
  return { overflow, overlaps, scrollingTables }
}

/** Runs in the page: what axe leaves to best practice but we hold every page to. */
function inspectStructure(): string[] {
  const problems: string[] = []
  const visible = (el: Element) => el.checkVisibility() || el.closest('details:not([open])') !== null
  const headings = Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6')).filter(visible)
  const h1s = headings.filter((h) => h.tagName === 'H1')
  if (h1s.length !== 1) problems.push(`${h1s.length} h1 headings (one expected)${h1s.length ? ': ' + h1s.map((h) => JSON.stringify(h.textContent!.trim().slice(0, 40))).join(', ') : ''}`)
  let level = 0
  for (const h of headings) {
    const next = Number(h.tagName[1])
    if (level && next > level + 1) problems.push(`heading level skipped: h${level} then h${next} ${JSON.stringify(h.textContent!.trim().slice(0, 40))}`)
    level = next
  }
  if (document.querySelectorAll('main').length !== 1) problems.push('not exactly one <main>')
  const skip = document.querySelector<HTMLAnchorElement>('a.skip')
  if (!skip || !document.querySelector(skip.getAttribute('href') ?? '#none')) problems.push('no skip link to an existing target')
  // An error message beside a field is tied to it: the field is aria-invalid and described by the message.
  for (const error of Array.from(document.querySelectorAll<HTMLElement>('.field-error'))) {
    const field = error.id ? document.querySelector(`[aria-describedby~="${CSS.escape(error.id)}"]`) : null
    if (!field) problems.push(`field error ${JSON.stringify(error.textContent!.trim().slice(0, 40))} is not any field's aria-describedby`)
    else if (field.getAttribute('aria-invalid') !== 'true' && !field.matches('fieldset, [role=radiogroup], [role=group]')) problems.push(`field ${field.getAttribute('name') ?? field.id} has an error but is not aria-invalid`)
  }
  // The message after an action (the layout's flash) is announced.
  const flash = document.querySelector('main > .flash:first-child')
  if (flash && !['status', 'alert'].includes(flash.getAttribute('role') ?? '')) problems.push('the flash message is neither role=status nor role=alert')
  return problems
}

interface AxeResult { id: string; impact: string | null; help: string; nodes: { target: unknown[]; failureSummary?: string }[] }

/** axe-core's violations on the page, injected through the DevTools protocol (which the page's Content-Security-Policy does not govern). */
async function runAxe(page: Page, runOnly: { type: 'tag' | 'rule'; values: string[] }): Promise<AxeResult[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE)
  return page.evaluate((only) => (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: AxeResult[] }> } }).axe
    .run(document, { runOnly: only, resultTypes: ['violations'] })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }))), runOnly)
}

t.test('every page, for every role, at 375, 768 and 1366 px: no page scroll sideways, no overlapping text, no serious axe violation', async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true })
  const env = await testApp(t, { env: { COOKIE_SECURE: 'true' } })
  const fixtures = await makeFixtures(env)
  await env.app.listen({ port: 0, host: '127.0.0.1' })
  const address = env.app.server.address()
  if (!address || typeof address === 'string') throw new Error('the app is not listening')
  const base = `http://127.0.0.1:${address.port}`

  const browser = await launch()
  t.teardown(() => browser.close())
  const errors: string[] = []
  const pages = new Map<Role, Page>()
  const open = async (role: Role): Promise<Page> => {
    const existing = pages.get(role)
    if (existing) return existing
    const context: BrowserContext = await browser.newContext({ viewport: { width: WIDTHS[0], height: 800 }, locale: role.endsWith('-pt') ? 'pt-BR' : 'en-US' })
    // Loaded through tsx (npx tap on this file), functions passed to page.evaluate call esbuild's __name helper.
    await context.addInitScript({ content: 'globalThis.__name = globalThis.__name || ((f) => f)' })
    const page = await context.newPage()
    page.on('pageerror', (err) => errors.push(`${role}: ${err.message}`))
    page.on('console', (msg) => { if (msg.type() === 'error' && /Content Security Policy/.test(msg.text())) errors.push(`${role}: ${msg.text()}`) })
    if (role !== 'anonymous') {
      await page.goto(`${base}/login`)
      await page.locator('input[name=email]').fill(LOGINS[role].email)
      await page.locator('input[name=password]').fill(LOGINS[role].password)
      await page.locator('form[action="/login"] button[type=submit]').click()
      await page.waitForLoadState()
    }
    pages.set(role, page)
    return page
  }

  const started = Date.now()
  const failures: string[] = []
  let checked = 0
  let axeViolations = 0
  /** Moderate and minor violations: reported, not failed on. */
  const lesser = new Map<string, number>()
  for (const c of PAGES) {
    const path = c.path(fixtures)
    const label = `${c.role} ${c.name ?? path}`
    const page = await open(c.role)
    await page.setViewportSize({ width: WIDTHS[0], height: 800 })
    const res = await page.goto(`${base}${path}`)
    if (c.act) await c.act(page)
    // After an act (a form sent empty) the page is the form's answer, a 4xx by design.
    if (!c.act && res && res.status() !== (c.status ?? 200)) failures.push(`${label}: answered ${res.status()}, not ${c.status ?? 200}`)
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 800 })
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))
      const layout = await page.evaluate(inspectLayout)
      checked++
      if (layout.overflow) failures.push(`${label} at ${width} px: the page scrolls sideways: ${layout.overflow}`)
      for (const o of layout.overlaps) failures.push(`${label} at ${width} px: overlapping text: ${o}`)
      if (width === WIDE) for (const w of layout.scrollingTables) failures.push(`${label} at ${width} px: a table does not fit, its columns are cut: ${w}`)
      if (width === WIDTHS[0] && c.shot) {
        await page.evaluate(() => window.scrollTo(0, 0))
        await page.screenshot({ path: join(ARTIFACTS, `mobile-${c.shot}.png`), fullPage: true })
      }
      if (width !== AXE_WIDTH) {
        // On narrower screens a table or block may scroll inside its box: the keyboard must reach it.
        for (const v of await runAxe(page, { type: 'rule', values: ['scrollable-region-focusable'] })) {
          failures.push(`${label} at ${width} px: axe ${v.id} (${v.impact}): ${v.help}; on ${v.nodes.slice(0, 4).map((n) => JSON.stringify(n.target)).join(', ')}`)
        }
      } else {
        for (const p of await page.evaluate(inspectStructure)) failures.push(`${label}: ${p}`)
        const violations = await runAxe(page, { type: 'tag', values: AXE_TAGS })
        for (const v of violations) {
          if (v.impact !== 'serious' && v.impact !== 'critical') { lesser.set(v.id, (lesser.get(v.id) ?? 0) + 1); continue }
          axeViolations++
          failures.push(`${label}: axe ${v.id} (${v.impact}): ${v.help}; on ${v.nodes.slice(0, 4).map((n) => JSON.stringify(n.target)).join(', ')}${v.nodes.length > 4 ? ` and ${v.nodes.length - 4} more` : ''}`)
        }
      }
    }
  }
  // By keyboard alone at 375 px: the skip link, then the header's menu and Log out in it.
  const phone = await open('client')
  await phone.setViewportSize({ width: 375, height: 800 })
  await phone.goto(`${base}/portal`)
  await phone.keyboard.press('Tab')
  t.equal(await phone.evaluate(() => document.activeElement?.className), 'skip', 'the first Tab reaches the skip link')
  t.ok(await phone.locator('a.skip').isVisible(), 'which shows when focused')
  await phone.keyboard.press('Enter')
  t.equal(await phone.evaluate(() => document.activeElement?.id), 'main', 'and moves the focus to the main content')
  const logout = phone.getByRole('button', { name: en('nav.logout') })
  t.notOk(await logout.isVisible(), 'at 375 px the menu starts folded')
  await phone.locator('.topbar summary').focus()
  await phone.keyboard.press('Enter')
  t.ok(await logout.isVisible(), 'Enter on Menu shows the links and Log out')
  const box = await logout.boundingBox()
  t.ok(box && box.x >= 0 && box.x + box.width <= 375, 'Log out is on the screen')
  await logout.focus()
  await phone.keyboard.press('Enter')
  await phone.waitForURL(/\/login/)
  t.pass('and logs out from the keyboard')

  if (lesser.size) t.comment(`moderate or minor axe findings (pages): ${[...lesser].map(([id, n]) => `${id} ${n}`).join(', ')}`)
  t.comment(`${PAGES.length} pages × ${WIDTHS.length} widths (${checked} layouts), axe on ${PAGES.length} pages, in ${Math.round((Date.now() - started) / 1000)} s`)
  t.same(failures, [], `every page fits at ${WIDTHS.join(', ')} px without overlapping text, and axe finds nothing serious (${axeViolations} serious or critical)`)
  t.same(errors, [], 'no script errors or blocked scripts')
})

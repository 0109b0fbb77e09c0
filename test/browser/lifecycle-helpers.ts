import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { Test } from 'tap'
import { testApp, type TestEnv } from '../helpers/app.js'
import { translator } from '../../src/i18n/index.js'
import { ROOT } from '../helpers/root.js'

// The same harness as journey.test.ts (Debian Chromium through playwright-core, the app on a
// real port), gathered here so the lifecycle journey reads as the story it tells.
export const ARTIFACTS = join(ROOT, 'test/.artifacts')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const en = translator('en')

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run scripts/ensure-test-deps.sh (npm test runs it first) or set CHROMIUM_PATH`)
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
}

/** Listens on a free port of 127.0.0.1 and answers the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('the app is not listening')
  return `http://127.0.0.1:${address.port}`
}

export async function shoot(page: Page, name: string) {
  mkdirSync(ARTIFACTS, { recursive: true })
  // From the top, so sticky side columns sit where a reader first sees them.
  await page.evaluate(() => window.scrollTo(0, 0))
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}

/**
 * The app on a real port and one Chromium for a journey: `page(who)` opens a page in its own
 * context (its own cookies) whose script errors and failed responses go to `errors`.
 */
export async function journeyScene(t: Test): Promise<TestEnv & { base: string; errors: string[]; page: (who: string) => Promise<Page> }> {
  const env = await testApp(t, { env: { COOKIE_SECURE: 'true' } })
  const base = await listen(env.app)
  const browser = await launch()
  t.teardown(() => browser.close())
  const errors: string[] = []
  const page = async (who: string) => {
    const p = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' })).newPage()
    watch(p, who, errors)
    return p
  }
  return { ...env, base, errors, page }
}

/** A client opens a ticket through the portal's form; answers its number. */
export async function openPortalTicket(page: Page, base: string, ticket: { product: string; title: string; description: string }): Promise<number> {
  await page.goto(`${base}/portal/tickets/new`)
  await page.getByLabel(en('ticket.product'), { exact: true }).selectOption({ label: ticket.product })
  await page.getByLabel(en('ticket.title'), { exact: true }).fill(ticket.title)
  await page.getByLabel(en('ticket.description'), { exact: true }).fill(ticket.description)
  await page.getByRole('button', { name: en('portal.new.save'), exact: true }).click()
  await page.waitForURL(/\/portal\/tickets\/\d+$/)
  return Number(page.url().split('/').pop())
}

/** Logs in through the real form and waits for the page it lands on. */
export async function logIn(page: Page, base: string, email: string, password: string, landing: string) {
  await page.goto(`${base}/login`)
  await page.getByLabel(en('auth.login.email')).fill(email)
  await page.getByLabel(en('auth.login.password')).fill(password)
  await page.getByRole('button', { name: en('auth.login.submit') }).click()
  await page.waitForURL(`${base}${landing}`)
}

/** Collects script errors and failed responses of a page into `errors`. */
export function watch(page: Page, who: string, errors: string[]) {
  page.on('pageerror', (err) => errors.push(`${who}: ${err.message}`))
  // Browsers ask for /favicon.ico on their own; a missing one is not the page's fault.
  page.on('response', (res) => { if (res.status() >= 400 && !res.url().endsWith('/favicon.ico')) errors.push(`${who}: ${res.status()} ${res.url()}`) })
}

/**
 * The success flash after a POST and its redirect. Waits for one saying `expected` (the page
 * the button was on may still show an earlier flash), then answers what the page shows.
 */
export async function flashText(page: Page, expected: string): Promise<string> {
  const flash = page.locator('.flash-success')
  await flash.filter({ hasText: expected }).first().waitFor({ timeout: 15_000 }).catch(() => {})
  return (await flash.allInnerTexts()).map((s) => s.trim()).join(' | ')
}

/** The rows of a History tab as "when | who | what | change" cell texts, oldest first. */
export async function historyRows(page: Page): Promise<string[][]> {
  return page.locator('table.history tbody tr').evaluateAll((rows) =>
    rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => (td.textContent ?? '').replace(/\s+/g, ' ').trim())))
}

/**
 * Whether `rows` contain, in this order (other rows may sit between), a row matching each
 * expectation: who, what and change are matched as substrings.
 */
export function inOrder(rows: string[][], expected: { who?: string; what: string; change?: string }[]): { ok: boolean; missing?: string } {
  let at = 0
  for (const e of expected) {
    const found = rows.findIndex((r, i) => i >= at && (!e.who || r[1] === e.who) && r[2] === e.what && (!e.change || r[3].includes(e.change)))
    if (found < 0) return { ok: false, missing: JSON.stringify(e) }
    at = found + 1
  }
  return { ok: true }
}

// The advanced-search cases of the benchmark (issue 6): combined filters on the staff queue
// (`/desk`, a member of both desks and an admin) and on a client manager's "My requests"
// (`/portal`). One list serves run.ts (through HTTP), queries.ts (listTickets directly) and
// explain.ts (plans); each case is the page's URL and the filters that URL reads as.
import type { Kysely } from 'kysely'
import type { Database } from '../../src/db/schema.js'
import { DESK_DEFAULTS, PORTAL_DEFAULTS, readSearchQuery, searchUrl, type SearchFilters } from '../../src/domain/search.js'
import { DEMO_PASSWORDS } from '../../src/commands/demo.js'
import type { BenchInfo } from './seed.js'

export type Who = 'staff' | 'admin' | 'client'

export interface SearchCase {
  /** Short name, unique, usable with --only. */
  name: string
  who: Who
  /** The page URL (`/desk?...` or `/portal?...`), as searchUrl writes it. */
  url: string
  /** What the page hands listTickets for that URL (its defaults included). */
  filters: SearchFilters
}

const DAY = 86_400_000

export interface SearchIds {
  serviceDesk: number
  productSupport: number
  cloud: number
  hardware: number
  bruno: number
  /** The busiest requester (the manager of the busy account). */
  requester: number
  /** A common title word (4% of titles) and the benchmark's search word (about 0.5% of titles). */
  titleWord: string
  rareWord: string
}

export async function searchIds(db: Kysely<Database>, info: BenchInfo): Promise<SearchIds> {
  const id = async (q: Promise<{ id: number } | undefined>, what: string) => {
    const row = await q
    if (!row) throw new Error(`bench database has no ${what}`)
    return row.id
  }
  return {
    serviceDesk: await id(db.selectFrom('desk').select('id').where('name', '=', 'Service Desk').executeTakeFirst(), 'Service Desk'),
    productSupport: await id(db.selectFrom('desk').select('id').where('name', '=', 'Product Support').executeTakeFirst(), 'Product Support'),
    cloud: await id(db.selectFrom('product').select('id').where('name', '=', 'Casebridge Cloud').executeTakeFirst(), 'Casebridge Cloud'),
    hardware: await id(db.selectFrom('category').select('id').where('name', '=', 'Hardware').executeTakeFirst(), 'Hardware area'),
    bruno: await id(db.selectFrom('staff').select('id').where('email', '=', 'bruno@casebridge.test').executeTakeFirst(), 'Bruno'),
    requester: await id(db.selectFrom('contact').select('id').where('email', '=', info.client.email).executeTakeFirst(), info.client.email),
    titleWord: 'printer',
    rareWord: info.search.word
  }
}

/** The admin the admin cases log in as (bench.json's staff member is Ana, of both desks). */
export const ADMIN = { email: 'admin@casebridge.test', password: DEMO_PASSWORDS.admin }

/** Rows per page, as the pages ask for them. */
export const PER_PAGE: Record<Who, number> = { staff: 25, admin: 25, client: 20 }

/**
 * The cases, with dates relative to `now` (the seed spreads tickets over the three years before
 * it ran, so re-running later shifts which tickets fall in a window only slightly).
 */
export function searchCases(ids: SearchIds, now: Date): SearchCase[] {
  const day = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY).toISOString().slice(0, 10)
  const desk = (name: string, who: Who, over: SearchFilters): SearchCase => {
    const url = searchUrl('/desk', { ...DESK_DEFAULTS, ...over }, DESK_DEFAULTS)
    return { name, who, url, filters: readBack(url, 'staff', DESK_DEFAULTS) }
  }
  const portal = (name: string, over: SearchFilters): SearchCase => {
    const url = searchUrl('/portal', { ...PORTAL_DEFAULTS, ...over }, PORTAL_DEFAULTS)
    return { name, who: 'client', url, filters: readBack(url, 'contact', PORTAL_DEFAULTS) }
  }
  const cases: SearchCase[] = []
  for (const who of ['staff', 'admin'] as const) {
    cases.push(
      desk(`${who}: open+high+90d+product`, who, { situation: 'open', priority: 'high', openedFrom: day(90), productId: ids.cloud }),
      desk(`${who}: desk+pending by priority`, who, { deskId: ids.serviceDesk, status: 'pending', sort: 'priority' }),
      desk(`${who}: area+opened range+assignee`, who, { areaId: ids.hardware, openedFrom: day(180), openedTo: day(90), assigneeId: ids.bruno }),
      desk(`${who}: closed range+closed+request`, who, { closedFrom: day(60), closedTo: day(30), situation: 'closed', ticketType: 'request' }),
      desk(`${who}: title+critical`, who, { title: ids.titleWord, priority: 'critical' }),
      ...(who === 'staff' ? [desk(`${who}: title (1% word)+critical`, who, { title: ids.rareWord, priority: 'critical' })] : []),
      desk(`${who}: sla breached+desk`, who, { sla: 'breached', deskId: ids.serviceDesk }),
      // Where the dashboard's SLA figures lead: every state, so the whole scope is judged.
      desk(`${who}: sla at risk, all`, who, { sla: 'at_risk', situation: 'all' }),
      desk(`${who}: sla achieved, all`, who, { sla: 'achieved', situation: 'all' }),
      // Where the request summary's rows lead: one requester's tickets of the last 30 days.
      desk(`${who}: requester+30d, all`, who, { requesterId: ids.requester, situation: 'all', openedFrom: day(30) }),
      // The status filter cleared: every state, so the pieces are not cut per state.
      desk(`${who}: all states+critical+product`, who, { situation: 'all', priority: 'critical', productId: ids.cloud }),
      // The dashboard's "unassigned" figure.
      desk(`${who}: unassigned`, who, { assigneeId: 'none' })
    )
  }
  cases.push(
    portal('client: open+high+90d+product', { situation: 'open', priority: 'high', openedFrom: day(90), productId: ids.cloud }),
    portal('client: pending by priority', { status: 'pending', sort: 'priority' }),
    portal('client: area+opened range', { areaId: ids.hardware, openedFrom: day(180), openedTo: day(90) }),
    portal('client: closed range+closed+request', { closedFrom: day(60), closedTo: day(30), situation: 'closed', ticketType: 'request' }),
    portal('client: title+critical', { title: ids.titleWord, priority: 'critical' }),
    portal('client: sla breached', { sla: 'breached' })
  )
  return cases
}

/** The filters a page reads from the URL: what the benchmark asks for is what the page gets. */
function readBack(url: string, kind: 'staff' | 'contact', defaults: Partial<SearchFilters>): SearchFilters {
  const query = Object.fromEntries(new URL(url, 'http://x').searchParams)
  const { filters, errors } = readSearchQuery(query, { kind, defaults })
  if (Object.keys(errors).length > 0) throw new Error(`${url}: ${JSON.stringify(errors)}`)
  return filters
}

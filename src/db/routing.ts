// What checking and routing a ticket looks up: which products, desks and catalog items exist and
// are in use, which desk serves a product or catalog item, the SLA targets, and each desk's
// business hours. All of it changes a few times a year, so each process keeps one copy in memory
// (src/db/reference-cache.ts), and a command confirms it with a single read of the reference-data
// counter inside its transaction instead of reading these tables while it holds the write lock.
import type { Executor } from './index.js'
import type { Priority, TicketType } from './schema.js'
import { cachedReference } from './reference-cache.js'
import { parseWeek } from './calendars.js'
import { DEFAULT_SLA_POLICIES, dueTimes, type SlaDue, type SlaTargets } from '../domain/sla.js'
import type { BusinessCalendar } from '../domain/business-hours.js'

/** A catalog item (not an area) as a new ticket uses it. */
export interface RoutingItem {
  id: number
  active: number
  ticket_type: TicketType
  default_priority: Priority | null
  requires_approval: number
  auto_approve: number
}

/** What the SLA targets of a ticket depend on: its priority, its catalog item and its desk. */
export interface SlaSubject {
  priority: Priority
  categoryId: number | null
  deskId: number
}

export class Routing {
  constructor(
    readonly activeProducts: ReadonlySet<number>,
    readonly desks: ReadonlyMap<number, BusinessCalendar | null>,
    readonly items: ReadonlyMap<number, RoutingItem>,
    /** The desk serving each catalog item and each product (the lowest desk id where several do). */
    readonly deskByItem: ReadonlyMap<number, number>,
    readonly deskByProduct: ReadonlyMap<number, number>,
    readonly policies: ReadonlyMap<Priority, SlaTargets>,
    /** A catalog item's own targets, by `${itemId}:${priority}`. */
    readonly itemPolicies: ReadonlyMap<string, SlaTargets>
  ) {}

  productActive(id: number): boolean {
    return this.activeProducts.has(id)
  }

  deskExists(id: number): boolean {
    return this.desks.has(id)
  }

  /** A catalog item, in use or retired; undefined for an area or an id that is not there. */
  item(id: number): RoutingItem | undefined {
    return this.items.get(id)
  }

  /** The desk a ticket goes to by default: its catalog item's, else its product's. */
  deskServing(opts: { productId?: number | null; categoryId?: number | null }): number | undefined {
    return (opts.categoryId ? this.deskByItem.get(opts.categoryId) : undefined) ?? (opts.productId ? this.deskByProduct.get(opts.productId) : undefined)
  }

  /** The business hours a desk's SLA targets count in; null when it has none (calendar time). */
  calendar(deskId: number): BusinessCalendar | null {
    return this.desks.get(deskId) ?? null
  }

  /** The targets for a ticket: its catalog item's for its priority where set, else its priority's. */
  slaTargets(subject: Pick<SlaSubject, 'priority' | 'categoryId'>): SlaTargets {
    return (subject.categoryId === null ? undefined : this.itemPolicies.get(`${subject.categoryId}:${subject.priority}`))
      ?? this.policies.get(subject.priority) ?? DEFAULT_SLA_POLICIES[subject.priority]
  }

  /** Response, resolution and at-risk times for a ticket started at `startedAt`, counted in its desk's business hours. */
  slaDue(subject: SlaSubject, startedAt: string): SlaDue {
    return dueTimes(startedAt, this.slaTargets(subject), this.calendar(subject.deskId))
  }
}

async function loadRouting(db: Executor): Promise<Routing> {
  const [products, desks, items, deskItems, deskProducts, policies, itemPolicies, calendars, holidays] = await Promise.all([
    db.selectFrom('product').select('id').where('active', '=', 1).execute(),
    db.selectFrom('desk').select(['id', 'calendar_id']).execute(),
    db.selectFrom('category').select(['id', 'active', 'ticket_type', 'default_priority', 'requires_approval', 'auto_approve']).where('parent_id', 'is not', null).execute(),
    db.selectFrom('desk_category').select(['desk_id', 'category_id']).orderBy('desk_id', 'desc').execute(),
    db.selectFrom('desk_product').select(['desk_id', 'product_id']).orderBy('desk_id', 'desc').execute(),
    db.selectFrom('sla_policy').select(['priority', 'response_minutes', 'resolution_minutes']).execute(),
    db.selectFrom('sla_item_policy').select(['category_id', 'priority', 'response_minutes', 'resolution_minutes']).execute(),
    db.selectFrom('business_calendar').select(['id', 'time_zone', 'week']).execute(),
    db.selectFrom('business_holiday').select(['calendar_id', 'day']).execute()
  ])
  const days = new Map<number, Set<string>>()
  for (const h of holidays) {
    const set = days.get(h.calendar_id) ?? new Set<string>()
    set.add(h.day)
    days.set(h.calendar_id, set)
  }
  const calendarById = new Map<number, BusinessCalendar>(calendars.map((c) => [c.id, { timeZone: c.time_zone, week: parseWeek(c.week), holidays: days.get(c.id) ?? new Set() }]))
  const targets = (r: { response_minutes: number; resolution_minutes: number }): SlaTargets => ({ responseMinutes: r.response_minutes, resolutionMinutes: r.resolution_minutes })
  return new Routing(
    new Set(products.map((p) => p.id)),
    new Map(desks.map((d) => [d.id, d.calendar_id === null ? null : calendarById.get(d.calendar_id) ?? null])),
    new Map(items.map((i) => [i.id, i])),
    // Highest desk id first, so the lowest is the one kept.
    new Map(deskItems.map((r) => [r.category_id, r.desk_id])),
    new Map(deskProducts.map((r) => [r.product_id, r.desk_id])),
    new Map(policies.map((p) => [p.priority, targets(p)])),
    new Map(itemPolicies.map((p) => [`${p.category_id}:${p.priority}`, targets(p)]))
  )
}

/** Products, desks, catalog items, who serves what, SLA targets and business hours, as the database now holds them. */
export function ticketRouting(db: Executor): Promise<Routing> {
  return cachedReference(db, 'routing', loadRouting)
}

import type { Db } from '../db/index.js'
import type { Priority, TicketSource } from '../db/schema.js'
import { createTicket, type CreateTicketInput } from '../db/ticket.js'
import { contactAccounts } from '../db/people.js'
import { deskExists, deskServing, getCatalogItem, productExists } from '../db/catalog.js'
import { actorRef } from '../db/event.js'
import { PRIORITIES } from '../domain/lifecycle.js'
import type { Actor } from '../domain/permissions.js'
import type { Translate } from '../i18n/index.js'
import type { AttachmentStore, UploadedFile } from '../storage/attachments.js'
import type { FormErrors } from '../routes/forms.js'

export const LIMITS = { title: 200, description: 20_000, url: 2_000, note: 20_000 } as const

/** What a person typed into "Open new ticket" (portal, desk on behalf, API), before checking. */
export interface NewTicketDraft {
  accountId: number | null
  contactId: number | null
  productId: number | null
  categoryId: number | null
  deskId: number | null
  priority: string
  title: string
  description: string
  url: string
  files: UploadedFile[]
  source: TicketSource
}

export type CheckedTicket = Omit<CreateTicketInput, 'files'>

/**
 * Checks a draft against the rules and the database; returns field errors (keyed by form field
 * name) or the ticket to create. Nothing is written.
 */
export async function checkNewTicket(db: Db, actor: Actor, draft: NewTicketDraft, t: Translate, maxMb: number): Promise<{ errors: FormErrors; ticket?: CheckedTicket }> {
  const errors: FormErrors = {}
  const contactId = actor.kind === 'contact' ? actor.id : draft.contactId
  let accountId = draft.accountId
  if (contactId === null) {
    errors.contact_id = t('validation.required')
  } else {
    const accounts = await contactAccounts(db, contactId)
    if (accounts.length === 0) errors.contact_id = t('validation.invalidChoice')
    else if (accountId === null && accounts.length === 1) accountId = accounts[0].id
    else if (accountId === null) errors.account_id = t('validation.required')
    else if (!accounts.some((a) => a.id === accountId)) errors.account_id = t('validation.invalidChoice')
  }

  if (draft.productId === null && draft.categoryId === null) {
    errors.product_id = t('ticket.catalogOrProduct')
  }
  let ticketType: 'incident' | 'request' = 'incident'
  if (draft.productId !== null && !(await productExists(db, draft.productId))) errors.product_id = t('validation.invalidChoice')
  if (draft.categoryId !== null) {
    const item = await getCatalogItem(db, draft.categoryId)
    if (!item || item.active !== 1) errors.category_id = t('validation.invalidChoice')
    else ticketType = item.ticket_type
  }

  let deskId = draft.deskId
  if (deskId !== null && !(await deskExists(db, deskId))) errors.desk_id = t('validation.invalidChoice')
  if (deskId === null && !errors.product_id && !errors.category_id) {
    deskId = (await deskServing(db, { productId: draft.productId, categoryId: draft.categoryId })) ?? null
    if (deskId === null) errors.desk_id = t('validation.required')
  }

  const priority = (draft.priority || 'medium') as Priority
  if (!(PRIORITIES as readonly string[]).includes(priority)) errors.priority = t('validation.invalidChoice')

  if (!draft.title) errors.title = t('validation.required')
  else if (draft.title.length > LIMITS.title) errors.title = t('validation.tooLong', { max: LIMITS.title })
  if (!draft.description) errors.description = t('validation.required')
  else if (draft.description.length > LIMITS.description) errors.description = t('validation.tooLong', { max: LIMITS.description })
  if (draft.url) {
    try {
      const u = new URL(draft.url)
      if ((u.protocol !== 'http:' && u.protocol !== 'https:') || draft.url.length > LIMITS.url) throw new Error('bad url')
    } catch {
      errors.url = t('validation.invalidUrl')
    }
  }
  const tooBig = draft.files.find((f) => f.truncated)
  if (tooBig) errors.attachments = t('validation.fileTooLarge', { filename: tooBig.filename, max: maxMb })

  if (Object.keys(errors).length > 0 || contactId === null || accountId === null || deskId === null) return { errors }
  return {
    errors,
    ticket: {
      title: draft.title, description: draft.description, url: draft.url || null, accountId, contactId,
      createdByStaffId: actor.kind === 'staff' ? actor.id : null, productId: draft.productId, categoryId: draft.categoryId,
      deskId, priority, ticketType, source: draft.source
    }
  }
}

export interface CommandDeps {
  db: Db
  store: AttachmentStore
  clock: () => Date
  random: () => number
}

/** Keeps the uploaded files and creates the ticket (assigned by least load). */
export async function openTicket(deps: CommandDeps, actor: Actor, ticket: CheckedTicket, files: UploadedFile[]) {
  const stored = []
  for (const f of files) stored.push(await deps.store.keep(f))
  return createTicket(deps.db, { ...ticket, files: stored }, { actor: actorRef(actor), now: deps.clock().toISOString(), random: deps.random })
}

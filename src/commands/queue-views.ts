// The staff queue's memory: the last search a staff member ran (written only when it changed),
// and their saved searches ("views"), personal or shared with a desk. Sharing with a desk is for
// its manager or an admin; a shared view is renamed or deleted by its owner, the desk's manager or
// an admin, and those changes are audited (a personal view is nobody else's business).
import {
  countViewsOwnedBy, deleteView, getQueuePref, getView, insertView, lockViewOwner, renameView, saveQueuePref, viewNameTaken, type QueueViewRow
} from '../db/queue-views.js'
import { listDesks } from '../db/catalog.js'
import { canonicalQuery, MAX_VIEWS, mayEditView, mayShareWith, maySeeView, VIEW_NAME_MAX } from '../domain/queue-views.js'
import type { StaffActor } from '../domain/permissions.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'

/** The longest query a view or the remembered search keeps (the queue's own URLs are far shorter). */
export const VIEW_QUERY_MAX = 2_000

function staffPerson(uow: UnitOfWork): StaffActor {
  const person = uow.who.person
  if (person?.kind !== 'staff') throw new Refused('forbidden')
  return person
}

/** Remembers the queue search a staff member last ran (its canonical query; '' is the defaults). */
export async function rememberQueueSearch(deps: Deps, who: Who, query: string): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    const actor = staffPerson(uow)
    const wanted = canonicalQuery(query.slice(0, VIEW_QUERY_MAX))
    if ((await getQueuePref(uow.trx, actor.id) ?? '') === wanted) return { changed: false }
    await saveQueuePref(uow.trx, actor.id, wanted, uow.at)
    return { changed: true }
  })
}

export interface ViewInput {
  name: string
  /** null: personal; a desk id: shared with that desk's members. */
  deskId: number | null
  /** The search, as the queue's URL query. */
  query: string
}

/** The view as it is, when the actor may change it: unseen is not_found, seen but not theirs to change is forbidden. */
async function editable(uow: UnitOfWork, actor: StaffActor, id: number): Promise<QueueViewRow> {
  const current = await getView(uow.trx, id)
  if (!current || !maySeeView(actor, current)) throw new Refused('not_found')
  if (!mayEditView(actor, current)) throw new Refused('forbidden')
  return current
}

async function checkName(uow: UnitOfWork, check: FieldCheck, name: string, where: { ownerId: number; deskId: number | null }, exceptId?: number) {
  check.text('name', name, VIEW_NAME_MAX)
  if (!check.has('name') && (await viewNameTaken(uow.trx, where, name.trim(), exceptId))) check.add('name', 'taken')
}

export async function saveQueueView(deps: Deps, who: Who, input: ViewInput): Promise<Outcome<{ id: number; query: string }>> {
  return run(deps, who, async (uow) => {
    const actor = staffPerson(uow)
    await lockViewOwner(uow.trx, actor.id)
    const check = new FieldCheck()
    if (input.deskId !== null) {
      const desk = (await listDesks(uow.trx)).find((d) => d.id === input.deskId)
      if (!desk || !mayShareWith(actor, desk)) check.add('deskId', 'not_on_desk')
    }
    await checkName(uow, check, input.name, { ownerId: actor.id, deskId: check.has('deskId') ? null : input.deskId })
    if (input.query.length > VIEW_QUERY_MAX) check.add('query', 'too_long', { max: VIEW_QUERY_MAX })
    check.refuse()
    const owned = await countViewsOwnedBy(uow.trx, actor.id)
    if (owned >= MAX_VIEWS) throw new Refused('too_many', { params: { max: String(MAX_VIEWS) } })
    const fields = { deskId: input.deskId, name: input.name.trim(), query: canonicalQuery(input.query) }
    const id = await insertView(uow.trx, actor.id, fields, uow.at)
    if (fields.deskId !== null) await uow.audit({ entity: 'queue_view', entityId: id, action: 'create', label: fields.name, after: { ...fields } })
    return { id, query: fields.query }
  })
}

export async function renameQueueView(deps: Deps, who: Who, id: number, name: string): Promise<Outcome<{ name: string }>> {
  return run(deps, who, async (uow) => {
    const actor = staffPerson(uow)
    const current = await editable(uow, actor, id)
    const check = new FieldCheck()
    await checkName(uow, check, name, { ownerId: current.owner_staff_id, deskId: current.desk_id }, id)
    check.refuse()
    const trimmed = name.trim()
    await renameView(uow.trx, id, trimmed, uow.at)
    if (current.desk_id !== null) {
      await uow.audit({ entity: 'queue_view', entityId: id, action: 'update', label: trimmed, before: { name: current.name }, after: { name: trimmed } })
    }
    return { name: trimmed }
  })
}

export async function deleteQueueView(deps: Deps, who: Who, id: number): Promise<Outcome<{ name: string }>> {
  return run(deps, who, async (uow) => {
    const current = await editable(uow, staffPerson(uow), id)
    await deleteView(uow.trx, id)
    if (current.desk_id !== null) {
      await uow.audit({ entity: 'queue_view', entityId: id, action: 'delete', label: current.name, before: { deskId: current.desk_id, name: current.name, query: current.query } })
    }
    return { name: current.name }
  })
}

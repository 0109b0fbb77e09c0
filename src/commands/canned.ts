// Canned responses as staff keep them (/desk/canned): personal ones by their owner, those shared
// with a desk by their owner, the desk's manager or an admin. A shared one is the team's: its
// changes are audited.
import { deleteCanned, getCanned, insertCanned, updateCanned, type CannedFields, type CannedRow } from '../db/canned.js'
import { mayEditCanned, mayUseCanned, unknownPlaceholders } from '../domain/canned.js'
import { LIMITS } from '../domain/ticket.js'
import type { StaffActor } from '../domain/permissions.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'
import { listDesks } from '../db/catalog.js'

export interface CannedInput {
  /** null: personal; a desk id: shared with that desk's members. */
  deskId: number | null
  title: string
  bodyEn: string
  bodyPt: string
}

/** The longest title a response may have (it is what staff search for). */
export const CANNED_TITLE_MAX = 120

function staffPerson(uow: UnitOfWork): StaffActor {
  const person = uow.who.person
  if (person?.kind !== 'staff') throw new Refused('forbidden')
  return person
}

async function checked(uow: UnitOfWork, actor: StaffActor, input: CannedInput): Promise<CannedFields> {
  const check = new FieldCheck()
  check.text('title', input.title, CANNED_TITLE_MAX)
  check.text('bodyEn', input.bodyEn, LIMITS.note, false)
  check.text('bodyPt', input.bodyPt, LIMITS.note, false)
  if (!check.has('bodyEn') && !check.has('bodyPt') && input.bodyEn.trim() === '' && input.bodyPt.trim() === '') check.add('bodyEn', 'required')
  for (const field of ['bodyEn', 'bodyPt'] as const) {
    const unknown = unknownPlaceholders(input[field])
    if (unknown.length > 0 && !check.has(field)) check.add(field, 'invalid_choice', { names: unknown.map((n) => `{{${n}}}`).join(', ') })
  }
  if (input.deskId !== null) {
    // Shared with a desk the author is on (an admin: any desk there is).
    const exists = (await listDesks(uow.trx)).some((d) => d.id === input.deskId)
    if (!exists || (actor.role !== 'admin' && !actor.deskIds.includes(input.deskId))) check.add('deskId', 'not_on_desk')
  }
  check.refuse()
  return { deskId: input.deskId, title: input.title.trim(), bodyEn: input.bodyEn.trim(), bodyPt: input.bodyPt.trim() }
}

/** The response as it is, when the actor may change it: unseen is not_found, seen but not theirs to change is forbidden. */
async function editable(uow: UnitOfWork, actor: StaffActor, id: number): Promise<CannedRow> {
  const current = await getCanned(uow.trx, id)
  if (!current || !mayUseCanned(actor, current)) throw new Refused('not_found')
  if (!mayEditCanned(actor, current)) throw new Refused('forbidden')
  return current
}

export async function addCannedResponse(deps: Deps, who: Who, input: CannedInput): Promise<Outcome<{ id: number }>> {
  return run(deps, who, async (uow) => {
    const actor = staffPerson(uow)
    const fields = await checked(uow, actor, input)
    const id = await insertCanned(uow.trx, actor.id, fields, uow.at)
    if (fields.deskId !== null) await uow.audit({ entity: 'canned_response', entityId: id, action: 'create', label: fields.title, after: { ...fields } })
    return { id }
  })
}

export async function editCannedResponse(deps: Deps, who: Who, id: number, input: CannedInput): Promise<Outcome<{ id: number }>> {
  return run(deps, who, async (uow) => {
    const actor = staffPerson(uow)
    const current = await editable(uow, actor, id)
    const fields = await checked(uow, actor, input)
    await updateCanned(uow.trx, id, fields, uow.at)
    if (current.desk_id !== null || fields.deskId !== null) {
      const before = { deskId: current.desk_id, title: current.title, bodyEn: current.body_en, bodyPt: current.body_pt }
      await uow.audit({ entity: 'canned_response', entityId: id, action: 'update', label: fields.title, before, after: { ...fields } })
    }
    return { id }
  })
}

export async function deleteCannedResponse(deps: Deps, who: Who, id: number): Promise<Outcome<{ title: string }>> {
  return run(deps, who, async (uow) => {
    const current = await editable(uow, staffPerson(uow), id)
    await deleteCanned(uow.trx, id)
    if (current.desk_id !== null) {
      await uow.audit({ entity: 'canned_response', entityId: id, action: 'delete', label: current.title, before: { deskId: current.desk_id, title: current.title } })
    }
    return { title: current.title }
  })
}

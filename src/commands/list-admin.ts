// The managed lists as an admin keeps them (/admin/lists): adding an item, changing its labels,
// order or whether it is offered. An item is never deleted and its code never changes: tickets
// and notes store the code. Every change is audited.
import { getListItem, listCodeTaken, nextPosition, saveListItem } from '../db/managed-lists.js'
import { LIST_CODE, type ManagedList } from '../domain/managed-lists.js'
import { LIMITS } from '../domain/ticket.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type Who } from './kernel.js'
import { asAdmin } from './admin-common.js'

export interface ListItemInput {
  /** Only when adding: the stable key tickets store (lower case, digits, _ and -). */
  code: string
  labelEn: string
  labelPt: string
  active: boolean
  /** Where it comes in its list (lower first); null: after the last one when adding, unchanged when editing. */
  position: number | null
}

const POSITION = { min: 0, max: 100_000 } as const

function checkLabels(check: FieldCheck, input: ListItemInput): void {
  check.text('labelEn', input.labelEn, LIMITS.label)
  check.text('labelPt', input.labelPt, LIMITS.label)
  if (input.position !== null && !(Number.isInteger(input.position) && input.position >= POSITION.min && input.position <= POSITION.max)) {
    check.add('position', 'out_of_range', POSITION)
  }
}

export async function addListItem(deps: Deps, who: Who, list: ManagedList, input: ListItemInput): Promise<Outcome<{ id: number }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const check = new FieldCheck()
    const code = input.code.trim().toLowerCase()
    if (code === '') check.add('code', 'required')
    else if (!LIST_CODE.test(code)) check.add('code', 'invalid_choice')
    else if (await listCodeTaken(uow.trx, list, code)) check.add('code', 'taken')
    checkLabels(check, input)
    check.refuse()
    const fields = { code, labelEn: input.labelEn.trim(), labelPt: input.labelPt.trim(), active: input.active, position: input.position ?? await nextPosition(uow.trx, list) }
    const id = await saveListItem(uow.trx, null, list, fields, uow.at)
    await uow.audit({ entity: 'list_item', entityId: id, action: 'create', label: fields.labelEn, after: { list, ...fields } })
    return { id }
  })
}

/** New labels, order or availability; an item turned off is offered nowhere new and still reads on what stored it. */
export async function editListItem(deps: Deps, who: Who, itemId: number, input: Omit<ListItemInput, 'code'>): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await getListItem(uow.trx, itemId)
    if (!current) throw new Refused('not_found')
    const check = new FieldCheck()
    checkLabels(check, { ...input, code: current.code })
    check.refuse()
    const fields = { code: current.code, labelEn: input.labelEn.trim(), labelPt: input.labelPt.trim(), active: input.active, position: input.position ?? current.position }
    await saveListItem(uow.trx, current.id, current.list as ManagedList, fields, uow.at)
    const before = { code: current.code, labelEn: current.label_en, labelPt: current.label_pt, active: current.active === 1, position: current.position }
    return { changed: await uow.audit({ entity: 'list_item', entityId: current.id, action: 'update', label: fields.labelEn, before, after: { ...fields } }) }
  })
}

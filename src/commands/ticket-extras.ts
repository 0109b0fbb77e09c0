// The smaller things staff keep on a ticket while it still takes work: checklist items and costs.
import { addChecklistRow, addCostRow, checklistItem, setChecklistRowDone } from '../db/ticket-extras.js'
import { LIMITS, MAX_COST_CENTS } from '../domain/ticket.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type Who } from './kernel.js'
import { beginChange } from './ticket-access.js'

export async function addChecklistItem(deps: Deps, who: Who, input: { ticketId: number; label: string }): Promise<Outcome<{ itemId: number }>> {
  return run(deps, who, async (uow) => {
    await beginChange(uow, input.ticketId, 'add_note')
    const check = new FieldCheck()
    check.text('label', input.label, LIMITS.itemLabel)
    check.refuse()
    const label = input.label.trim()
    const itemId = await addChecklistRow(uow.trx, input.ticketId, label, uow.who.ref.id, uow.at)
    await uow.history(input.ticketId, { action: 'checklist_added', field: 'checklist', to: label })
    return { itemId }
  })
}

/** Ticks or unticks an item of this ticket (an item of another ticket is not_found). */
export async function setChecklistItemDone(deps: Deps, who: Who, input: { ticketId: number; itemId: number; done: boolean }): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    await beginChange(uow, input.ticketId, 'add_note')
    const item = await checklistItem(uow.trx, input.ticketId, input.itemId)
    if (!item) throw new Refused('not_found', { field: 'itemId' })
    if ((item.done === 1) === input.done) return { changed: false }
    await setChecklistRowDone(uow.trx, input.itemId, input.done, uow.who.ref.id, uow.at)
    await uow.history(input.ticketId, { action: input.done ? 'checklist_done' : 'checklist_undone', field: 'checklist', to: item.label })
    return { changed: true }
  })
}

export async function addCost(deps: Deps, who: Who, input: { ticketId: number; description: string; amountCents: number }): Promise<Outcome<void>> {
  return run(deps, who, async (uow) => {
    await beginChange(uow, input.ticketId, 'add_note')
    const check = new FieldCheck()
    check.text('description', input.description, LIMITS.itemLabel)
    if (!Number.isInteger(input.amountCents) || input.amountCents <= 0 || input.amountCents > MAX_COST_CENTS) check.add('amountCents', 'out_of_range', { max: MAX_COST_CENTS / 100 })
    check.refuse()
    const description = input.description.trim()
    await addCostRow(uow.trx, input.ticketId, description, input.amountCents, uow.who.ref.id, uow.at)
    await uow.history(input.ticketId, { action: 'cost_added', field: 'cost', to: `${description} (${(input.amountCents / 100).toFixed(2)})` })
  })
}

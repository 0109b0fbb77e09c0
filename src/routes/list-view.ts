// The managed lists as a page uses them: the choices a form offers (active items, labelled in
// the reader's language) and how a stored code reads.
import type { Locale } from '../domain/permissions.js'
import { itemLabel, listOf, storedLabel, type ListItem, type ManagedList } from '../domain/managed-lists.js'

export interface ListView {
  choices(list: ManagedList): { code: string; label: string }[]
  label(list: ManagedList, value: string | null): string | null
}

export function listView(items: readonly ListItem[], locale: Locale): ListView {
  return {
    choices: (list) => listOf(items, list, true).map((i) => ({ code: i.code, label: itemLabel(i, locale) })),
    label: (list, value) => storedLabel(items, list, value, locale)
  }
}

/** History fields whose values are a managed list's codes. */
const LIST_FIELDS: Readonly<Record<string, ManagedList>> = { occurrence_category: 'occurrence_category', occurrence_origin: 'occurrence_origin' }

/** History rows with their managed-list codes read in the reader's language (the page shows such values as given). */
export function withListLabels<E extends { field: string | null; from_value: string | null; to_value: string | null }>(events: readonly E[], lists: ListView): E[] {
  return events.map((e) => {
    const list = e.field ? LIST_FIELDS[e.field] : undefined
    return list ? { ...e, from_value: lists.label(list, e.from_value), to_value: lists.label(list, e.to_value) } : e
  })
}

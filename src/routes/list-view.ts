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

// The lists an admin keeps (Administration, "Structure"): what a support team names its work
// with, in both languages. A ticket or note keeps an item's code; the label shown is the item's,
// in the reader's language, today. A value that is no item's code (written before the lists
// existed, or an item since removed) shows as it was written.
import type { Locale } from './permissions.js'

export const MANAGED_LISTS = ['occurrence_category', 'occurrence_origin', 'closure_category', 'cancellation_reason'] as const
export type ManagedList = (typeof MANAGED_LISTS)[number]

export function isManagedList(value: unknown): value is ManagedList {
  return (MANAGED_LISTS as readonly unknown[]).includes(value)
}

export interface ListItem {
  id: number
  list: string
  code: string
  label_en: string
  label_pt: string
  active: number
  position: number
}

/** Codes are short, lower-case and stable: they are what tickets store. */
export const LIST_CODE = /^[a-z0-9][a-z0-9_-]{0,39}$/

/** An item's label in a language. */
export function itemLabel(item: Pick<ListItem, 'label_en' | 'label_pt'>, locale: Locale): string {
  return locale === 'pt-BR' ? item.label_pt : item.label_en
}

/** One list's items in their order, the inactive ones too unless `activeOnly`. */
export function listOf(items: readonly ListItem[], list: ManagedList, activeOnly = false): ListItem[] {
  return items.filter((i) => i.list === list && (!activeOnly || i.active === 1))
}

/** The active item of `list` with this code, if any: what a new choice must be. */
export function activeItem(items: readonly ListItem[], list: ManagedList, code: string): ListItem | undefined {
  return items.find((i) => i.list === list && i.code === code && i.active === 1)
}

/**
 * How a stored value reads: the label of the item with that code (active or not), else the value
 * as it was written; null stays null.
 */
export function storedLabel(items: readonly ListItem[], list: ManagedList, value: string | null, locale: Locale): string | null {
  if (value === null || value === '') return null
  const item = items.find((i) => i.list === list && i.code === value)
  return item ? itemLabel(item, locale) : value
}

/** Both languages' labels of a stored value, for a message rendered later in its reader's language. */
export function storedLabels(items: readonly ListItem[], list: ManagedList, value: string | null): Record<Locale, string> | null {
  if (value === null || value === '') return null
  return { en: storedLabel(items, list, value, 'en')!, 'pt-BR': storedLabel(items, list, value, 'pt-BR')! }
}

/**
 * What a person chose, as the code to store: '' is no choice (null); an active item matches by its
 * code or by either label, whatever the case (an API client or an old form may send the label);
 * anything else is `undefined`, not a valid choice.
 */
export function chosenCode(items: readonly ListItem[], list: ManagedList, raw: string | null | undefined): string | null | undefined {
  const value = (raw ?? '').trim()
  if (value === '') return null
  const folded = value.toLowerCase()
  const item = listOf(items, list, true).find((i) => i.code === folded || i.label_en.toLowerCase() === folded || i.label_pt.toLowerCase() === folded)
  return item?.code
}

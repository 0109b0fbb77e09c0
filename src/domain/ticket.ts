// What a ticket's fields may hold: limits and choices every channel and command shares.

/** Longest text each field takes. */
export const LIMITS = {
  title: 200,
  description: 20_000,
  url: 2_000,
  note: 20_000,
  /** The whole text of the e-mail a note came from (quoted history included). */
  noteOriginal: 200_000,
  /** Occurrence category and origin, checklist labels and cost descriptions are short labels. */
  label: 100,
  itemLabel: 200,
  reason: 20_000,
  comment: 2_000,
  /** A person's or a token's name. */
  name: 200
} as const

/** Minutes a single note or occurrence may record as time spent. */
export const MAX_MINUTES = 10_000

/** Ten million in any currency is far beyond one ticket's costs: a typo, not an expense. */
export const MAX_COST_CENTS = 1_000_000_000

/** Every way a ticket reaches us. */
export const TICKET_SOURCES = ['portal', 'email', 'phone', 'api', 'crm'] as const

/** Where staff may say a ticket came from; 'api' and 'crm' are set by those channels only. */
export const STAFF_SOURCES = ['phone', 'email', 'portal'] as const

/** reply: public conversation; message: staff to requester; internal: staff only; note: staff note whose visibility is chosen. */
export const NOTE_MODES = ['reply', 'message', 'note', 'internal'] as const
export type NoteMode = (typeof NOTE_MODES)[number]

/** A ticket opened by a person names what it is about: a catalog item, a product, or both. */
export function namesCatalogOrProduct(t: { productId: number | null; categoryId: number | null }): boolean {
  return t.productId !== null || t.categoryId !== null
}

/** An http(s) address of reasonable length. */
export function isWebUrl(value: string): boolean {
  // The URL parser drops tabs and line breaks and percent-encodes other controls: the stored text
  // would not be the address that was checked.
  if (value.length > LIMITS.url || /[\u0000-\u001F\u007F]/.test(value)) return false
  try {
    const u = new URL(value)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

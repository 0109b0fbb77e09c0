// Bulk actions of the staff queue: what they may do and how many tickets they take at once.

/** What a bulk action may do: each is one command per ticket. */
export const BULK_ACTIONS = ['assign', 'desk', 'priority', 'pick_up', 'resolve', 'close'] as const
export type BulkAction = (typeof BULK_ACTIONS)[number]

/** The most tickets one bulk action takes ("all matching" beyond it is refused with the count). */
export const BULK_MAX = 1_000

/**
 * Up to this many tickets a bulk action runs while the page waits (a few seconds at most); more
 * run in the worker, and the page shows their progress.
 */
export const BULK_INLINE = 100

/** What a bulk action applies to every ticket (checked once before any ticket is touched). */
export interface BulkParams {
  assigneeId: number | null
  deskId: number | null
  priority: string
  closureCategory: string
  /** The transfer note, the resolution, or the closure note. */
  note: string
}

/** How one ticket came out: changed, already so (a field edit that changed nothing), or refused. */
export type BulkItemOutcome = 'done' | 'unchanged' | 'refused'

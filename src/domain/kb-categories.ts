// The knowledge base's category tree: ordered by position then name, no category under itself or
// under one of its own subcategories. Pure: src/commands/kb-categories.ts asks before it writes.

export const KB_CATEGORY_LIMITS = { name: 100, position: 9999 } as const

export interface CategoryNode<T> {
  category: T
  depth: number
  children: CategoryNode<T>[]
}

/**
 * The categories as a tree: roots first, each level by position then English name. A category
 * whose parent is missing (or that sits in a loop written by other means) is shown as a root.
 */
export function categoryTree<T extends { id: number; parent_id: number | null; position: number; name_en: string }>(rows: readonly T[]): CategoryNode<T>[] {
  const byParent = new Map<number | null, T[]>()
  const ids = new Set(rows.map((r) => r.id))
  for (const r of rows) {
    const parent = r.parent_id !== null && ids.has(r.parent_id) ? r.parent_id : null
    byParent.set(parent, [...(byParent.get(parent) ?? []), r])
  }
  const order = (a: T, b: T) => a.position - b.position || a.name_en.localeCompare(b.name_en) || a.id - b.id
  const placed = new Set<number>()
  const build = (parent: number | null, depth: number): CategoryNode<T>[] =>
    (byParent.get(parent) ?? []).sort(order).filter((c) => !placed.has(c.id)).map((c) => {
      placed.add(c.id)
      return { category: c, depth, children: build(c.id, depth + 1) }
    })
  const roots = build(null, 0)
  // Rows in a loop never hang from a root: they are shown at the top rather than lost.
  for (const r of rows) if (!placed.has(r.id)) roots.push({ category: r, depth: 0, children: build(r.id, 1) })
  return roots
}

/** The tree as a list in reading order, each with its depth (for selects and flat lists). */
export function flattenTree<T>(nodes: readonly CategoryNode<T>[]): { category: T; depth: number }[] {
  return nodes.flatMap((n) => [{ category: n.category, depth: n.depth }, ...flattenTree(n.children)])
}

/**
 * Whether putting `id` under `parentId` would make a loop: the parent is the category itself or
 * one of its descendants. `parents` maps each category to its parent.
 */
export function wouldLoop(id: number, parentId: number | null, parents: ReadonlyMap<number, number | null>): boolean {
  const seen = new Set<number>()
  for (let at = parentId; at !== null && at !== undefined; at = parents.get(at) ?? null) {
    if (at === id) return true
    if (seen.has(at)) return true
    seen.add(at)
  }
  return false
}

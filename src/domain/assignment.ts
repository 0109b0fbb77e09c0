export interface Candidate {
  staffId: number
  openCount: number
}

/** The candidate with the fewest open tickets; ties broken by `random` (0 <= x < 1). */
export function pickLeastLoaded(candidates: readonly Candidate[], random: () => number = Math.random): number | null {
  if (candidates.length === 0) return null
  const fewest = Math.min(...candidates.map((c) => c.openCount))
  const tied = candidates.filter((c) => c.openCount === fewest)
  return tied[Math.min(tied.length - 1, Math.floor(random() * tied.length))].staffId
}

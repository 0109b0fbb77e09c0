// Where a knowledge-base article is read by a client, and which articles a reply points at: the
// ticket page inserts an article's client link, and a sent reply or note that holds one links the
// article to the ticket (its "tickets linked" figure).

/** The client's address of an article: `/help/articles/ID-slug` (an old slug redirects to the current one). */
export function articleClientPath(article: { id: number; slug: string }): string {
  return `/help/articles/${article.id}-${article.slug}`
}

/** The address put into a reply: absolute with the product's public base URL when one is configured. */
export function articleClientUrl(article: { id: number; slug: string }, publicBase: string | null): string {
  const path = articleClientPath(article)
  return publicBase ? `${publicBase.replace(/\/+$/, '')}${path}` : path
}

/** Most articles one reply is taken to point at (a pasted list of links is not a hundred links). */
export const MAX_LINKED_PER_NOTE = 20

/**
 * The ids of the articles whose client address appears in `text` (relative or absolute, with
 * any slug), in the order they appear, without repeats.
 */
export function articleIdsIn(text: string): number[] {
  const ids: number[] = []
  for (const m of text.matchAll(/(?:^|[^\w/])(?:https?:\/\/[^\s/]+)?\/help\/articles\/([1-9]\d{0,9})(?=[-/?#\s)\]>.,;:!"']|$)/g)) {
    const id = Number(m[1])
    if (id <= 2 ** 31 - 1 && !ids.includes(id)) ids.push(id)
    if (ids.length >= MAX_LINKED_PER_NOTE) break
  }
  return ids
}

/**
 * Ids posted as text ("12,15"): the whole numbers, without repeats; anything else is not an id
 * and is left out.
 */
export function postedArticleIds(raw: string): number[] {
  const ids: number[] = []
  for (const part of raw.split(',')) {
    const v = part.trim()
    if (!/^[1-9]\d{0,9}$/.test(v)) continue
    const id = Number(v)
    if (id <= 2 ** 31 - 1 && !ids.includes(id)) ids.push(id)
    if (ids.length >= MAX_LINKED_PER_NOTE) break
  }
  return ids
}

/** How an article may go into a reply to the requester: its link only when the requester can open it. */
export type InsertKind = 'link' | 'text'

/**
 * What the ticket page offers for a suggested article: a published article the requester can read
 * offers its link and its text; an internal one, or one for other accounts, offers its text only
 * (for an internal note: the requester could not open the link).
 */
export function insertOffers(article: { state: string; audience: string; forTicketAccount: boolean }): InsertKind[] {
  if (article.state !== 'published') return []
  if (article.audience === 'public' || (article.audience === 'accounts' && article.forTicketAccount)) return ['link', 'text']
  return ['text']
}

/** The ticket's words a search for articles reads: its title and the start of its description. */
export function ticketSearchText(ticket: { title: string; description: string }): string {
  return `${ticket.title}\n${ticket.description.slice(0, 600)}`
}

// Which ticket an incoming message answers. The order is fixed (DESIGN.md §4): a signed token in
// In-Reply-To/References, then a plus-address token, then a body marker, then `[#number]` in the
// subject (only when the sender takes part in that ticket). Pure functions.
import { tokenFromAddress, tokensFromBody, tokensFromReferences, type ThreadClaims } from '../../src/domain/thread-token.js'

export type TokenSource = 'references' | 'address' | 'body'

export interface ThreadInput {
  inReplyTo: string | null
  references: string | null
  /** Every address the message was sent to: To, Cc, Delivered-To, X-Original-To. */
  recipients: string[]
  /** The full text, quoted history included: the body marker survives quoting. */
  text: string
  subject: string | null
}

export interface TokenCandidates {
  source: TokenSource
  tokens: string[]
}

export type ThreadChoice =
  | { kind: 'token'; source: TokenSource; claims: ThreadClaims }
  | { kind: 'forged'; source: TokenSource; token: string }
  | { kind: 'subject'; number: number }
  | { kind: 'none' }

/** The unverified tokens of each source, in the order they are trusted; empty sources left out. */
export function tokenCandidates(input: ThreadInput): TokenCandidates[] {
  const refs = [...tokensFromReferences(input.references), ...tokensFromReferences(input.inReplyTo)]
  const address = input.recipients.map(tokenFromAddress).filter((t): t is string => t !== null)
  const body = tokensFromBody(input.text)
  const out: TokenCandidates[] = []
  if (refs.length > 0) out.push({ source: 'references', tokens: unique(refs) })
  if (address.length > 0) out.push({ source: 'address', tokens: unique(address) })
  if (body.length > 0) out.push({ source: 'body', tokens: unique(body) })
  return out
}

function unique(list: string[]): string[] {
  return [...new Set(list)]
}

const SUBJECT_NUMBER = /\[#(\d{1,12})\]/

/** The ticket number in a subject such as `Re: [#42] Printer`, else null. */
export function subjectTicketNumber(subject: string | null): number | null {
  const m = subject ? SUBJECT_NUMBER.exec(subject) : null
  if (!m) return null
  const n = Number(m[1])
  return Number.isSafeInteger(n) && n > 0 ? n : null
}

/**
 * Decides the thread: the first source that holds any token decides. A source whose tokens all
 * fail verification is a forgery (or tampering) and is refused, even when a later source holds a
 * genuine token; among genuine tokens of one source the newest (last) wins.
 */
export function chooseThread(input: ThreadInput, verify: (token: string) => ThreadClaims | null): ThreadChoice {
  const candidates = tokenCandidates(input)
  if (candidates.length > 0) {
    const first = candidates[0]
    const verified = first.tokens.map((token) => ({ token, claims: verify(token) }))
    const genuine = verified.filter((v): v is { token: string; claims: ThreadClaims } => v.claims !== null)
    if (genuine.length === 0) return { kind: 'forged', source: first.source, token: first.tokens[0] }
    return { kind: 'token', source: first.source, claims: genuine[genuine.length - 1].claims }
  }
  const number = subjectTicketNumber(input.subject)
  return number === null ? { kind: 'none' } : { kind: 'subject', number }
}

export interface Participation {
  requesterContactId: number
  assigneeStaffId: number | null
  noteAuthors: { contactId: number | null; staffId: number | null }[]
}

/** Whether a sender takes part in a ticket: its requester, its assignee, or the author of a note on it. */
export function isParticipant(sender: { kind: 'contact' | 'staff'; id: number }, p: Participation): boolean {
  if (sender.kind === 'contact') {
    return p.requesterContactId === sender.id || p.noteAuthors.some((a) => a.contactId === sender.id)
  }
  return p.assigneeStaffId === sender.id || p.noteAuthors.some((a) => a.staffId === sender.id)
}

/** A ticket title from a mail subject: reply/forward prefixes and our `[#n]` tag removed. */
export function titleFromSubject(subject: string | null): string {
  let s = (subject ?? '').replace(/[\r\n\t]+/g, ' ')
  let previous = ''
  while (previous !== s) {
    previous = s
    s = s.replace(/^\s*((re|fw|fwd|res|enc|aw|wg|tr|sv|vs)\s*(\[\d+\])?\s*:|\[#\d{1,12}\])\s*/i, '')
  }
  return s.replace(/\s{2,}/g, ' ').trim()
}

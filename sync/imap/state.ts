// Sync decisions for one IMAP mailbox, as small pure functions (tested without a network).
import { backoffMs, type BackoffPolicy } from '../../src/work/backoff.js'

export interface StoredState {
  uidValidity: string
  nextUid: number
}

/** Whether the server renumbered the mailbox: our stored UIDs then mean nothing any more. */
export function hasUidValidityChanged(stored: StoredState | undefined, current: bigint | number | string): boolean {
  return stored !== undefined && stored.uidValidity !== String(current)
}

/**
 * Where to resume: the stored next UID while UIDVALIDITY holds, else from the start (the
 * Message-IDs already processed keep old mail from being processed again).
 */
export function resumeFrom(stored: StoredState | undefined, current: bigint | number | string): number {
  if (!stored || hasUidValidityChanged(stored, current)) return 1
  return Math.max(1, stored.nextUid)
}

/** The UIDs to look at this run: at or after `from`, ascending (a `N:*` search can return one below N). */
export function pendingUids(found: readonly number[], from: number): number[] {
  return [...new Set(found)].filter((u) => Number.isSafeInteger(u) && u >= from).sort((a, b) => a - b)
}

/** Splits UIDs into fetch batches by count and by total bytes, so memory stays bounded. */
export function fetchBatches(items: readonly { uid: number; size: number }[], maxCount: number, maxBytes: number): number[][] {
  const batches: number[][] = []
  let current: number[] = []
  let bytes = 0
  for (const it of items) {
    if (current.length > 0 && (current.length >= maxCount || bytes + it.size > maxBytes)) {
      batches.push(current)
      current = []
      bytes = 0
    }
    current.push(it.uid)
    bytes += it.size
  }
  if (current.length > 0) batches.push(current)
  return batches
}

/** Delay before reconnect attempt `attempt` (1-based): the one backoff, exponential, capped, with equal jitter. */
export function reconnectDelayMs(attempt: number, opts: BackoffPolicy, random: () => number = Math.random): number {
  return backoffMs(attempt, opts, random)
}

/** A compact IMAP sequence set for UIDs (`1:3,7,9:10`). */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b)
  const parts: string[] = []
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i]
    while (i + 1 < sorted.length && sorted[i + 1] === sorted[i] + 1) i++
    parts.push(start === sorted[i] ? String(start) : `${start}:${sorted[i]}`)
  }
  return parts.join(',')
}

export interface ImapTarget {
  secure: boolean
  host: string
  port: number
  user: string
  pass: string
  mailbox: string
  /** Names the mailbox in our state rows: user@host:port/path, never the password. */
  key: string
}

/** Reads IMAP_URL (`imap://user:pass@host:port/INBOX`, `imaps://` for TLS on connect). */
export function parseImapUrl(url: string): ImapTarget {
  const u = new URL(url)
  if (u.protocol !== 'imap:' && u.protocol !== 'imaps:') throw new Error(`IMAP_URL must start with imap:// or imaps:// (got ${u.protocol})`)
  const secure = u.protocol === 'imaps:'
  const port = u.port ? Number(u.port) : secure ? 993 : 143
  const user = decodeURIComponent(u.username)
  const pass = decodeURIComponent(u.password)
  if (!user) throw new Error('IMAP_URL has no user name')
  const mailbox = decodeURIComponent(u.pathname.replace(/^\/+/, '')) || 'INBOX'
  return { secure, host: u.hostname, port, user, pass, mailbox, key: `${user}@${u.hostname}:${port}/${mailbox}` }
}

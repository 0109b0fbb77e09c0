// The one backoff every retry in Casebridge uses: exponential, capped, with "equal jitter" (half
// of the wait fixed, half random), so workers that failed together do not retry together.

export interface BackoffPolicy {
  /** The wait after the first failure. */
  baseMs: number
  /** The longest wait. */
  maxMs: number
}

/** Wait before the next try after `failures` failures (1 = the first). Without `random`, no jitter. */
export function backoffMs(failures: number, policy: BackoffPolicy, random?: () => number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1))
  return random ? Math.round(exp / 2 + (exp / 2) * random()) : exp
}

const MINUTE = 60_000

/** CRM records refused for a reason that may pass: 30 s, 1, 2, 4... minutes, up to an hour. */
export const CRM_RETRY: BackoffPolicy = { baseMs: 30_000, maxMs: 60 * MINUTE }
/** Mail the SMTP server did not take: 2, 4, 8... minutes, up to six hours. */
export const MAIL_RETRY: BackoffPolicy = { baseMs: 2 * MINUTE, maxMs: 6 * 60 * MINUTE }
/** The CRM unreachable: look again in 5, 10, 20... seconds, up to five minutes. */
export const CRM_UNAVAILABLE: BackoffPolicy = { baseMs: 5_000, maxMs: 5 * MINUTE }
/** The daily API allowance used up: it frees up as the 24-hour window moves; 5, 10, 20... minutes, up to an hour. */
export const CRM_LIMIT: BackoffPolicy = { baseMs: 5 * MINUTE, maxMs: 60 * MINUTE }
/** Credentials refused: 1, 2, 4... minutes, up to half an hour. */
export const CRM_AUTH: BackoffPolicy = { baseMs: MINUTE, maxMs: 30 * MINUTE }

// The lifecycle actions a person starts by name (the desk's action buttons, the API's
// transitions endpoint): each goes to its own command.
import type { Deps, Outcome, Who } from '../kernel.js'
import type { Moved } from './step.js'
import { pickUpTicket } from './pick-up.js'
import { holdTicket } from './hold.js'
import { resumeTicket } from './resume.js'
import { resolveTicket } from './resolve.js'
import { closeTicket } from './close.js'
import { cancelTicket } from './cancel.js'
import { acceptResolution } from './accept.js'
import { rejectResolution } from './reject.js'
import { reopenTicket } from './reopen.js'
import { escalateTicket } from './escalate.js'

export const TRANSITION_ACTIONS = ['pick_up', 'escalate', 'hold', 'resume', 'resolve', 'close', 'cancel', 'accept', 'reject', 'reopen'] as const
export type TransitionAction = (typeof TRANSITION_ACTIONS)[number]

/** Everything any transition may take; each command reads what it needs. */
export interface TransitionRequest {
  ticketId: number
  version?: number
  reason?: string | null
  /** cancel: a cancellation reason from the managed list. */
  reasonCode?: string | null
  resolution?: string | null
  closureCategory?: string | null
  closureNote?: string | null
  targetDeskId?: number | null
}

const PERFORM: Record<TransitionAction, (deps: Deps, who: Who, r: TransitionRequest) => Promise<Outcome<Moved>>> = {
  pick_up: (deps, who, r) => pickUpTicket(deps, who, r),
  hold: (deps, who, r) => holdTicket(deps, who, { ...r, reason: r.reason ?? '' }),
  resume: (deps, who, r) => resumeTicket(deps, who, r),
  resolve: (deps, who, r) => resolveTicket(deps, who, { ...r, resolution: r.resolution ?? '' }),
  close: (deps, who, r) => closeTicket(deps, who, { ...r, closureCategory: r.closureCategory ?? '' }),
  cancel: (deps, who, r) => cancelTicket(deps, who, { ...r, reason: r.reason ?? '' }),
  accept: (deps, who, r) => acceptResolution(deps, who, r),
  reject: (deps, who, r) => rejectResolution(deps, who, { ...r, reason: r.reason ?? '' }),
  reopen: (deps, who, r) => reopenTicket(deps, who, r),
  escalate: (deps, who, r) => escalateTicket(deps, who, { ...r, targetDeskId: r.targetDeskId ?? null, reason: r.reason ?? '' })
}

export function performTransition(deps: Deps, who: Who, action: TransitionAction, request: TransitionRequest): Promise<Outcome<Moved>> {
  return PERFORM[action](deps, who, request)
}

export type { Moved }

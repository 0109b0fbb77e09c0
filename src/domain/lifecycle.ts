// Ticket lifecycle: who may do what from which state/status. Pure: routes, e-mail and CRM
// sync all ask `decide` before they write a change and its ticket_event row.

export const STATES = ['open', 'in_progress', 'on_hold', 'resolved', 'closed', 'cancelled'] as const
export type State = (typeof STATES)[number]

export const STATUSES = [
  'new',
  'awaiting_approval',
  'analysis',
  'escalated',
  'pending',
  'waiting_for_closure',
  'accepted',
  'rejected',
  'resolved_by_event',
  'resolved_by_origin',
  'completed',
  'cancelled',
] as const
export type Status = (typeof STATUSES)[number]

export const STATUS_STATE: Record<Status, State> = {
  new: 'open',
  awaiting_approval: 'open',
  analysis: 'in_progress',
  escalated: 'in_progress',
  pending: 'on_hold',
  waiting_for_closure: 'resolved',
  accepted: 'resolved',
  rejected: 'resolved',
  resolved_by_event: 'resolved',
  resolved_by_origin: 'resolved',
  completed: 'closed',
  cancelled: 'cancelled',
}

/**
 * Statuses a ticket passes through without resting there (a rule's `via`): recorded in history,
 * never the ticket's current status. A search for one finds the tickets that passed through it.
 */
export const PASSING_STATUSES = ['rejected'] as const satisfies readonly Status[]

export function isPassingStatus(status: string | undefined): boolean {
  return status !== undefined && (PASSING_STATUSES as readonly string[]).includes(status)
}

/** States that count as "open tickets" (assignment load, open lists). */
export const OPEN_STATES = ['open', 'in_progress', 'on_hold'] as const satisfies readonly State[]
export type OpenState = (typeof OPEN_STATES)[number]

export const ROLES = ['requester', 'staff', 'admin', 'system', 'crm'] as const
export type Role = (typeof ROLES)[number]

export const ACTIONS = [
  'pick_up',
  'categorize',
  'escalate',
  'hold',
  'resume',
  'resolve',
  'resolve_by_origin',
  'close',
  'cancel',
  'accept',
  'reject',
  'reopen',
  'auto_close',
  'reply',
  'register_occurrence',
  'add_note',
  'transfer',
  'rate',
  'delete',
  'approve',
  'reject_approval',
] as const
export type Action = (typeof ACTIONS)[number]

export const REFUSAL_CODES = [
  'inconsistent_state',
  'forbidden_role',
  'missing_permission',
  'not_allowed_in_state',
  'close_needs_requester',
  'occurrence_via_portal_disabled',
  'already_rated',
  'no_parent',
  'missing_reason',
  'missing_resolution',
  'missing_closure_category',
  'missing_target_desk',
] as const
export type RefusalCode = (typeof REFUSAL_CODES)[number]

export const RECIPIENTS = ['requester', 'assignee', 'desk_manager'] as const
export type Recipient = (typeof RECIPIENTS)[number]

export const LEVELS = ['low', 'medium', 'high'] as const
export type Level = (typeof LEVELS)[number]
export const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const
export type Priority = (typeof PRIORITIES)[number]

export interface LifecycleTicket {
  state: State
  status: Status
  rated?: boolean
  parentId?: number | string | null
}

export interface LifecycleActor {
  role: Role
  /** Staff permission to delete tickets; admins may always delete. */
  canDelete?: boolean
}

export interface LifecycleInput {
  reason?: string | null
  resolution?: string | null
  closureCategory?: string | null
  targetDeskId?: number | string | null
}

export interface LifecyclePolicy {
  staffMayCloseWithoutRequester: boolean
  occurrenceViaPortal: boolean
}

export interface Effects {
  /** The ticket enters on_hold or awaiting approval: the SLA clock pauses (`slaHeld`). */
  slaPause?: true
  /** The ticket leaves such a status: the pause ends (the clock runs unless the new state stops it). */
  slaResume?: true
  /** Counts as a reopen (reopen counter, SLA policy for reopened tickets). */
  reopen?: true
  /** Do not touch this ticket: open a new child ticket linked to it instead. */
  spawnChild?: true
  /**
   * A status the ticket passes through on its way, recorded in its history (a rejected
   * resolution is Resolved/Rejected for a moment before the work goes on).
   */
  via?: Status
  notify?: Recipient[]
}

export interface Allowed {
  ok: true
  /** Equal to the current state/status for actions that do not transition. */
  to: { state: State; status: Status }
  effects: Effects
}

export interface Refused {
  ok: false
  code: RefusalCode
  messageKey: `lifecycle.refused.${RefusalCode}`
  params: Record<string, string>
}

export type Decision = Allowed | Refused

export function isState(value: unknown): value is State {
  return typeof value === 'string' && (STATES as readonly string[]).includes(value)
}

export function isStatus(value: unknown): value is Status {
  return typeof value === 'string' && Object.hasOwn(STATUS_STATE, value)
}

export function isOpenState(state: State): state is OpenState {
  return (OPEN_STATES as readonly State[]).includes(state)
}

// ITIL matrix, rows = impact, columns = urgency.
const PRIORITY_MATRIX: Record<Level, Record<Level, Priority>> = {
  high: { high: 'critical', medium: 'high', low: 'medium' },
  medium: { high: 'high', medium: 'medium', low: 'low' },
  low: { high: 'medium', medium: 'low', low: 'low' },
}

export function priorityFor(impact: Level, urgency: Level): Priority {
  return PRIORITY_MATRIX[impact][urgency]
}

type Requirement = 'reason' | 'resolution' | 'closureCategory' | 'targetDeskId'

interface Rule {
  roles: readonly Role[]
  from: readonly Status[]
  /** Omitted: the action does not change state/status. */
  to?: Status
  requires?: Requirement
  policy?: { setting: keyof LifecyclePolicy; refusal: RefusalCode }
  needs?: 'parent' | 'unrated'
  spawnChild?: true
  reopen?: true
  /** Recorded on the way from `from` to `to` (see Effects.via). */
  via?: Status
  notify?: readonly Recipient[] | 'counterpart'
}

const STAFF: readonly Role[] = ['staff', 'admin']
const ALL: readonly Status[] = STATUSES
const OPEN: readonly Status[] = STATUSES.filter((s) => isOpenState(STATUS_STATE[s]))
// An unapproved request is not worked on: it is approved, rejected or cancelled first.
const WORKABLE: readonly Status[] = OPEN.filter((s) => s !== 'awaiting_approval')
const RESOLVED: readonly Status[] = STATUSES.filter((s) => STATUS_STATE[s] === 'resolved')
const NOT_FINAL: readonly Status[] = STATUSES.filter((s) => s !== 'completed' && s !== 'cancelled')

// Per action, the first rule whose roles and `from` match decides.
const RULES: Record<Action, readonly Rule[]> = {
  pick_up: [{ roles: STAFF, from: ['new'], to: 'analysis', notify: ['requester'] }],
  categorize: [{ roles: ['staff', 'admin', 'crm'], from: OPEN }],
  escalate: [
    {
      roles: STAFF,
      from: ['new', 'analysis', 'escalated'],
      to: 'escalated',
      requires: 'targetDeskId',
      notify: ['assignee', 'desk_manager'],
    },
  ],
  hold: [{ roles: STAFF, from: ['analysis', 'escalated'], to: 'pending', requires: 'reason', notify: ['requester'] }],
  resume: [{ roles: STAFF, from: ['pending'], to: 'analysis', notify: ['requester'] }],
  resolve: [
    { roles: STAFF, from: WORKABLE, to: 'waiting_for_closure', requires: 'resolution', notify: ['requester'] },
  ],
  resolve_by_origin: [
    { roles: ['system'], from: OPEN, to: 'resolved_by_origin', needs: 'parent', notify: ['requester'] },
  ],
  close: [
    { roles: STAFF, from: RESOLVED, to: 'completed', requires: 'closureCategory', notify: ['requester'] },
    {
      roles: STAFF,
      from: WORKABLE,
      to: 'completed',
      requires: 'closureCategory',
      policy: { setting: 'staffMayCloseWithoutRequester', refusal: 'close_needs_requester' },
      notify: ['requester'],
    },
  ],
  cancel: [
    { roles: ['requester', 'staff', 'admin'], from: OPEN, to: 'cancelled', requires: 'reason', notify: 'counterpart' },
  ],
  // The requester's acceptance rests in Resolved/Accepted until the ticket is closed with a
  // closure category: by staff (close), or by the auto-closure job as Solved.
  accept: [{ roles: ['requester'], from: ['waiting_for_closure'], to: 'accepted', notify: ['assignee'] }],
  // A rejection is recorded as Resolved/Rejected and the work goes on at once (In Progress/Analysis).
  reject: [
    {
      roles: ['requester'],
      from: ['waiting_for_closure'],
      to: 'analysis',
      via: 'rejected',
      requires: 'reason',
      reopen: true,
      notify: ['assignee'],
    },
  ],
  reopen: [{ roles: ['requester'], from: ['waiting_for_closure'], to: 'analysis', reopen: true, notify: ['assignee'] }],
  auto_close: [{ roles: ['system'], from: ['waiting_for_closure', 'accepted'], to: 'completed', notify: ['requester'] }],
  reply: [
    { roles: ['requester', 'staff', 'admin'], from: ['completed'], spawnChild: true },
    { roles: ['requester', 'staff', 'admin'], from: NOT_FINAL, notify: 'counterpart' },
    // Published comments by CRM users become staff replies (DESIGN §3); a closed case gets none.
    { roles: ['crm'], from: NOT_FINAL, notify: ['requester'] },
  ],
  register_occurrence: [
    {
      roles: ['requester'],
      from: ['analysis', 'escalated'],
      policy: { setting: 'occurrenceViaPortal', refusal: 'occurrence_via_portal_disabled' },
      notify: ['assignee'],
    },
    { roles: STAFF, from: OPEN },
  ],
  add_note: [{ roles: STAFF, from: NOT_FINAL }],
  transfer: [{ roles: ['staff', 'admin', 'crm'], from: NOT_FINAL, notify: ['assignee'] }],
  rate: [{ roles: ['requester'], from: ['accepted', 'completed'], needs: 'unrated', notify: ['assignee'] }],
  delete: [{ roles: STAFF, from: ALL }],
  approve: [{ roles: ['system'], from: ['awaiting_approval'], to: 'new', notify: ['requester'] }],
  reject_approval: [
    { roles: ['system'], from: ['awaiting_approval'], to: 'cancelled', requires: 'reason', notify: ['requester'] },
  ],
}

const MISSING: Record<Requirement, RefusalCode> = {
  reason: 'missing_reason',
  resolution: 'missing_resolution',
  closureCategory: 'missing_closure_category',
  targetDeskId: 'missing_target_desk',
}

/** A refusal for an input the action needs (a reason, a resolution...), not for the ticket or the actor. */
export function isMissingInput(code: string): boolean {
  return (Object.values(MISSING) as string[]).includes(code)
}

function refuse(code: RefusalCode, params: Record<string, string>): Refused {
  return { ok: false, code, messageKey: `lifecycle.refused.${code}`, params }
}

function present(value: string | number | null | undefined): boolean {
  if (value === null || value === undefined) return false
  return typeof value === 'number' ? Number.isFinite(value) : value.trim() !== ''
}

/** Every check except the inputs the action needs: what `allowedActions` shows as buttons. */
function check(
  ticket: LifecycleTicket,
  actor: LifecycleActor,
  action: Action,
  policy: LifecyclePolicy,
): Rule | Refused {
  const params = { action: String(action), role: String(actor.role), state: String(ticket.state), status: String(ticket.status) }
  if (!isStatus(ticket.status) || STATUS_STATE[ticket.status] !== ticket.state) {
    return refuse('inconsistent_state', params)
  }
  const rules = (RULES[action] ?? []).filter((r) => r.roles.includes(actor.role))
  if (rules.length === 0) return refuse('forbidden_role', params)
  if (action === 'delete' && actor.role === 'staff' && actor.canDelete !== true) {
    return refuse('missing_permission', params)
  }
  const rule = rules.find((r) => r.from.includes(ticket.status))
  if (!rule) return refuse('not_allowed_in_state', params)
  if (rule.policy && !policy[rule.policy.setting]) {
    return refuse(rule.policy.refusal, { ...params, setting: rule.policy.setting })
  }
  if (rule.needs === 'parent' && !present(ticket.parentId)) return refuse('no_parent', params)
  if (rule.needs === 'unrated' && ticket.rated === true) return refuse('already_rated', params)
  return rule
}

/**
 * Statuses whose time does not count against the SLA: on hold (waiting on the requester or a
 * third party) and awaiting approval (nobody may work on the ticket until it is approved).
 */
export function slaHeld(status: Status): boolean {
  return STATUS_STATE[status] === 'on_hold' || status === 'awaiting_approval'
}

function effectsOf(rule: Rule, from: Status, to: Status, role: Role): Effects {
  const effects: Effects = {}
  if (!slaHeld(from) && slaHeld(to)) effects.slaPause = true
  if (slaHeld(from) && !slaHeld(to)) effects.slaResume = true
  if (rule.reopen) effects.reopen = true
  if (rule.spawnChild) effects.spawnChild = true
  if (rule.via) effects.via = rule.via
  const notify = rule.notify === 'counterpart' ? (role === 'requester' ? ['assignee' as const] : ['requester' as const]) : rule.notify
  if (notify && notify.length > 0) effects.notify = [...notify]
  return effects
}

/**
 * Decides whether `actor` may perform `action` on `ticket`, and if so the resulting
 * state/status and side effects. Checks run in a fixed order, so the refusal code is the
 * first reason that applies: inconsistent_state, forbidden_role, missing_permission,
 * not_allowed_in_state, policy refusals, already_rated/no_parent, then missing inputs.
 */
export function decide(
  ticket: LifecycleTicket,
  actor: LifecycleActor,
  action: Action,
  input: LifecycleInput,
  policy: LifecyclePolicy,
): Decision {
  const rule = check(ticket, actor, action, policy)
  if ('ok' in rule) return rule
  if (rule.requires && !present(input[rule.requires])) {
    return refuse(MISSING[rule.requires], {
      action,
      role: actor.role,
      state: ticket.state,
      status: ticket.status,
      field: rule.requires,
    })
  }
  const status = rule.to ?? ticket.status
  return {
    ok: true,
    to: { state: STATUS_STATE[status], status },
    effects: effectsOf(rule, ticket.status, status, actor.role),
  }
}

/** Actions the actor may start on this ticket (inputs such as a reason are asked for later). */
export function allowedActions(ticket: LifecycleTicket, actor: LifecycleActor, policy: LifecyclePolicy): Action[] {
  return ACTIONS.filter((action) => !('ok' in check(ticket, actor, action, policy)))
}

type Catalog = Record<string, string>

const EN: Catalog = {
  'state.open': 'Open',
  'state.in_progress': 'In Progress',
  'state.on_hold': 'On-Hold',
  'state.resolved': 'Resolved',
  'state.closed': 'Closed',
  'state.cancelled': 'Cancelled',
  'status.new': 'New',
  'status.awaiting_approval': 'Awaiting Approval',
  'status.analysis': 'Analysis',
  'status.escalated': 'Escalated',
  'status.pending': 'Pending',
  'status.waiting_for_closure': 'Waiting for Closure',
  'status.accepted': 'Accepted',
  'status.rejected': 'Rejected',
  'status.resolved_by_event': 'Resolved by Event',
  'status.resolved_by_origin': 'Resolved by Origin Ticket',
  'status.completed': 'Completed',
  'status.cancelled': 'Cancelled',
  'action.pick_up': 'Pick up',
  'action.categorize': 'Categorize',
  'action.escalate': 'Escalate',
  'action.hold': 'Put on hold',
  'action.resume': 'Resume',
  'action.resolve': 'Resolve',
  'action.resolve_by_origin': 'Resolve from origin ticket',
  'action.close': 'Close',
  'action.cancel': 'Cancel ticket',
  'action.accept': 'Accept solution',
  'action.reject': 'Reject solution',
  'action.reopen': 'Reopen',
  'action.auto_close': 'Close automatically',
  'action.reply': 'Reply',
  'action.register_occurrence': 'Register occurrence',
  'action.add_note': 'Add internal note',
  'action.transfer': 'Transfer',
  'action.rate': 'Rate',
  'action.delete': 'Delete',
  'action.approve': 'Approve',
  'action.reject_approval': 'Reject request',
  'lifecycle.refused.inconsistent_state': "The ticket's status does not match its state.",
  'lifecycle.refused.forbidden_role': 'You are not allowed to do this.',
  'lifecycle.refused.missing_permission': 'Your account does not have the permission this action needs.',
  'lifecycle.refused.not_allowed_in_state': "This action is not available in the ticket's current status.",
  'lifecycle.refused.close_needs_requester':
    'This ticket must be resolved first; the requester then accepts the solution or it closes automatically.',
  'lifecycle.refused.occurrence_via_portal_disabled': 'Occurrences cannot be registered through the portal.',
  'lifecycle.refused.already_rated': 'This ticket has already been rated.',
  'lifecycle.refused.no_parent': 'This ticket has no origin ticket.',
  'lifecycle.refused.missing_reason': 'Please give a reason.',
  'lifecycle.refused.missing_resolution': 'Please describe the resolution.',
  'lifecycle.refused.missing_closure_category': 'Please choose a closure category.',
  'lifecycle.refused.missing_target_desk': 'Please choose the desk to escalate to.',
}

const PT_BR: Catalog = {
  'state.open': 'Aberto',
  'state.in_progress': 'Em andamento',
  'state.on_hold': 'Em espera',
  'state.resolved': 'Resolvido',
  'state.closed': 'Fechado',
  'state.cancelled': 'Cancelado',
  'status.new': 'Novo',
  'status.awaiting_approval': 'Aguardando aprovação',
  'status.analysis': 'Em análise',
  'status.escalated': 'Escalado',
  'status.pending': 'Pendente',
  'status.waiting_for_closure': 'Aguardando fechamento',
  'status.accepted': 'Aceito',
  'status.rejected': 'Rejeitado',
  'status.resolved_by_event': 'Resolvido por evento',
  'status.resolved_by_origin': 'Resolvido pelo chamado de origem',
  'status.completed': 'Concluído',
  'status.cancelled': 'Cancelado',
  'action.pick_up': 'Assumir',
  'action.categorize': 'Categorizar',
  'action.escalate': 'Escalar',
  'action.hold': 'Colocar em espera',
  'action.resume': 'Retomar',
  'action.resolve': 'Resolver',
  'action.resolve_by_origin': 'Resolver pelo chamado de origem',
  'action.close': 'Fechar',
  'action.cancel': 'Cancelar chamado',
  'action.accept': 'Aceitar solução',
  'action.reject': 'Rejeitar solução',
  'action.reopen': 'Reabrir',
  'action.auto_close': 'Fechar automaticamente',
  'action.reply': 'Responder',
  'action.register_occurrence': 'Registrar ocorrência',
  'action.add_note': 'Adicionar nota interna',
  'action.transfer': 'Transferir',
  'action.rate': 'Avaliar',
  'action.delete': 'Excluir',
  'action.approve': 'Aprovar',
  'action.reject_approval': 'Reprovar solicitação',
  'lifecycle.refused.inconsistent_state': 'O status do chamado não corresponde ao seu estado.',
  'lifecycle.refused.forbidden_role': 'Você não tem permissão para fazer isso.',
  'lifecycle.refused.missing_permission': 'Sua conta não tem a permissão necessária para esta ação.',
  'lifecycle.refused.not_allowed_in_state': 'Esta ação não está disponível no status atual do chamado.',
  'lifecycle.refused.close_needs_requester':
    'Este chamado precisa ser resolvido antes; depois o solicitante aceita a solução ou ele é fechado automaticamente.',
  'lifecycle.refused.occurrence_via_portal_disabled': 'Não é possível registrar ocorrências pelo portal.',
  'lifecycle.refused.already_rated': 'Este chamado já foi avaliado.',
  'lifecycle.refused.no_parent': 'Este chamado não tem chamado de origem.',
  'lifecycle.refused.missing_reason': 'Informe um motivo.',
  'lifecycle.refused.missing_resolution': 'Descreva a solução.',
  'lifecycle.refused.missing_closure_category': 'Escolha uma categoria de fechamento.',
  'lifecycle.refused.missing_target_desk': 'Escolha a mesa de atendimento de destino.',
}

export const LIFECYCLE_MESSAGES: { en: Catalog; 'pt-BR': Catalog } = { en: EN, 'pt-BR': PT_BR }

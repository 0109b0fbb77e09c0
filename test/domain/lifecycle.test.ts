import t from 'tap'
import {
  ACTIONS,
  LIFECYCLE_MESSAGES,
  OPEN_STATES,
  REFUSAL_CODES,
  STATES,
  STATUSES,
  STATUS_STATE,
  allowedActions,
  decide,
  isState,
  isStatus,
  priorityFor,
  type Action,
  type Effects,
  type LifecycleActor,
  type LifecycleInput,
  type LifecyclePolicy,
  type LifecycleTicket,
  type RefusalCode,
  type Status,
} from '../../src/domain/lifecycle.js'

// The expected behaviour is written out here independently of the module's own tables.

const STATE_OF = {
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
} as const

const ALL: Status[] = Object.keys(STATE_OF) as Status[]
const OPEN: Status[] = ['new', 'awaiting_approval', 'analysis', 'escalated', 'pending']
const RESOLVED: Status[] = ['waiting_for_closure', 'accepted', 'rejected', 'resolved_by_event', 'resolved_by_origin']
const NOT_FINAL: Status[] = [...OPEN, ...RESOLVED]

const ACTORS = {
  requester: { role: 'requester' },
  staff: { role: 'staff' },
  staff_deleter: { role: 'staff', canDelete: true },
  admin: { role: 'admin' },
  system: { role: 'system' },
  crm: { role: 'crm' },
} satisfies Record<string, LifecycleActor>
type ActorKind = keyof typeof ACTORS
const ACTOR_KINDS = Object.keys(ACTORS) as ActorKind[]
const STAFF: ActorKind[] = ['staff', 'staff_deleter', 'admin']

type Setting = keyof LifecyclePolicy
interface Row {
  action: Action
  actors: ActorKind[]
  from: Status[]
  to: Status | 'same'
  effects: Effects
  requires?: keyof LifecycleInput
  policy?: [Setting, RefusalCode]
}

const R = 'requester' as const
const A = 'assignee' as const
const M = 'desk_manager' as const
const CLOSE_POLICY: [Setting, RefusalCode] = ['staffMayCloseWithoutRequester', 'close_needs_requester']
const OCCURRENCE_POLICY: [Setting, RefusalCode] = ['occurrenceViaPortal', 'occurrence_via_portal_disabled']

// Every allowed combination. Anything not listed must be refused.
const EXPECTED: Row[] = [
  { action: 'pick_up', actors: STAFF, from: ['new'], to: 'analysis', effects: { notify: [R] } },
  { action: 'categorize', actors: [...STAFF, 'crm'], from: OPEN, to: 'same', effects: {} },
  {
    action: 'escalate',
    actors: STAFF,
    from: ['new', 'analysis', 'escalated'],
    to: 'escalated',
    effects: { notify: [A, M] },
    requires: 'targetDeskId',
  },
  {
    action: 'hold',
    actors: STAFF,
    from: ['analysis', 'escalated'],
    to: 'pending',
    effects: { slaPause: true, notify: [R] },
    requires: 'reason',
  },
  { action: 'resume', actors: STAFF, from: ['pending'], to: 'analysis', effects: { slaResume: true, notify: [R] } },
  {
    action: 'resolve',
    actors: STAFF,
    from: ['new', 'analysis', 'escalated'],
    to: 'waiting_for_closure',
    effects: { notify: [R] },
    requires: 'resolution',
  },
  {
    action: 'resolve',
    actors: STAFF,
    from: ['pending'],
    to: 'waiting_for_closure',
    effects: { slaResume: true, notify: [R] },
    requires: 'resolution',
  },
  {
    action: 'resolve_by_origin',
    actors: ['system'],
    from: ['new', 'awaiting_approval', 'analysis', 'escalated'],
    to: 'resolved_by_origin',
    effects: { notify: [R] },
  },
  {
    action: 'resolve_by_origin',
    actors: ['system'],
    from: ['pending'],
    to: 'resolved_by_origin',
    effects: { slaResume: true, notify: [R] },
  },
  {
    action: 'close',
    actors: STAFF,
    from: RESOLVED,
    to: 'completed',
    effects: { notify: [R] },
    requires: 'closureCategory',
  },
  {
    action: 'close',
    actors: STAFF,
    from: ['new', 'analysis', 'escalated'],
    to: 'completed',
    effects: { notify: [R] },
    requires: 'closureCategory',
    policy: CLOSE_POLICY,
  },
  {
    action: 'close',
    actors: STAFF,
    from: ['pending'],
    to: 'completed',
    effects: { slaResume: true, notify: [R] },
    requires: 'closureCategory',
    policy: CLOSE_POLICY,
  },
  {
    action: 'cancel',
    actors: ['requester'],
    from: ['new', 'awaiting_approval', 'analysis', 'escalated'],
    to: 'cancelled',
    effects: { notify: [A] },
    requires: 'reason',
  },
  {
    action: 'cancel',
    actors: ['requester'],
    from: ['pending'],
    to: 'cancelled',
    effects: { slaResume: true, notify: [A] },
    requires: 'reason',
  },
  {
    action: 'cancel',
    actors: STAFF,
    from: ['new', 'awaiting_approval', 'analysis', 'escalated'],
    to: 'cancelled',
    effects: { notify: [R] },
    requires: 'reason',
  },
  {
    action: 'cancel',
    actors: STAFF,
    from: ['pending'],
    to: 'cancelled',
    effects: { slaResume: true, notify: [R] },
    requires: 'reason',
  },
  { action: 'accept', actors: ['requester'], from: ['waiting_for_closure'], to: 'accepted', effects: { notify: [A] } },
  {
    action: 'reject',
    actors: ['requester'],
    from: ['waiting_for_closure'],
    to: 'analysis',
    effects: { reopen: true, via: 'rejected', notify: [A] },
    requires: 'reason',
  },
  {
    action: 'reopen',
    actors: ['requester'],
    from: ['waiting_for_closure'],
    to: 'analysis',
    effects: { reopen: true, notify: [A] },
  },
  { action: 'auto_close', actors: ['system'], from: ['waiting_for_closure', 'accepted'], to: 'completed', effects: { notify: [R] } },
  { action: 'reply', actors: ['requester'], from: NOT_FINAL, to: 'same', effects: { notify: [A] } },
  { action: 'reply', actors: STAFF, from: NOT_FINAL, to: 'same', effects: { notify: [R] } },
  { action: 'reply', actors: ['crm'], from: NOT_FINAL, to: 'same', effects: { notify: [R] } },
  { action: 'reply', actors: ['requester', ...STAFF], from: ['completed'], to: 'same', effects: { spawnChild: true } },
  {
    action: 'register_occurrence',
    actors: ['requester'],
    from: ['analysis', 'escalated'],
    to: 'same',
    effects: { notify: [A] },
    policy: OCCURRENCE_POLICY,
  },
  { action: 'register_occurrence', actors: STAFF, from: OPEN, to: 'same', effects: {} },
  { action: 'add_note', actors: STAFF, from: NOT_FINAL, to: 'same', effects: {} },
  { action: 'transfer', actors: [...STAFF, 'crm'], from: NOT_FINAL, to: 'same', effects: { notify: [A] } },
  { action: 'rate', actors: ['requester'], from: ['accepted', 'completed'], to: 'same', effects: { notify: [A] } },
  { action: 'delete', actors: ['staff_deleter', 'admin'], from: ALL, to: 'same', effects: {} },
  { action: 'approve', actors: ['system'], from: ['awaiting_approval'], to: 'new', effects: { notify: [R] } },
  {
    action: 'reject_approval',
    actors: ['system'],
    from: ['awaiting_approval'],
    to: 'cancelled',
    effects: { notify: [R] },
    requires: 'reason',
  },
]

const FULL_INPUT: LifecycleInput = {
  reason: 'customer asked',
  resolution: 'replaced the cable',
  closureCategory: 'solved',
  targetDeskId: 7,
}

const POLICIES: LifecyclePolicy[] = [
  { staffMayCloseWithoutRequester: false, occurrenceViaPortal: false },
  { staffMayCloseWithoutRequester: true, occurrenceViaPortal: false },
  { staffMayCloseWithoutRequester: false, occurrenceViaPortal: true },
  { staffMayCloseWithoutRequester: true, occurrenceViaPortal: true },
]
const ALL_ON = POLICIES[3]
const ALL_OFF = POLICIES[0]

function ticket(status: Status, extra: Partial<LifecycleTicket> = {}): LifecycleTicket {
  return { state: STATE_OF[status], status, rated: false, parentId: 41, ...extra }
}

function findRow(action: Action, actor: ActorKind, status: Status): Row | undefined {
  return EXPECTED.find((r) => r.action === action && r.actors.includes(actor) && r.from.includes(status))
}

function expected(action: Action, actor: ActorKind, status: Status, policy: LifecyclePolicy): object {
  const row = findRow(action, actor, status)
  if (row && row.policy && !policy[row.policy[0]]) {
    return { ok: false, code: row.policy[1], messageKey: `lifecycle.refused.${row.policy[1]}` }
  }
  if (row) {
    const to = row.to === 'same' ? status : row.to
    // Awaiting approval holds the SLA clock like on hold: leaving it for a status that does not
    // hold resumes the clock (the table lists each row once for all its `from` statuses).
    const leavesApproval = status === 'awaiting_approval' && to !== 'awaiting_approval' && STATE_OF[to] !== 'on_hold'
    const effects = leavesApproval ? { slaResume: true, ...row.effects } : row.effects
    return { ok: true, to: { state: STATE_OF[to], status: to }, effects }
  }
  let code: RefusalCode
  if (EXPECTED.some((r) => r.action === action && r.actors.includes(actor))) code = 'not_allowed_in_state'
  else if (action === 'delete' && actor === 'staff') code = 'missing_permission'
  else code = 'forbidden_role'
  return { ok: false, code, messageKey: `lifecycle.refused.${code}` }
}

function summary(d: ReturnType<typeof decide>): object {
  return d.ok ? d : { ok: false, code: d.code, messageKey: d.messageKey }
}

function policyName(p: LifecyclePolicy): string {
  return `close-without-requester=${p.staffMayCloseWithoutRequester} occurrence-via-portal=${p.occurrenceViaPortal}`
}

t.test('states, statuses and their mapping are the stored values', async (t) => {
  t.strictSame([...STATES], ['open', 'in_progress', 'on_hold', 'resolved', 'closed', 'cancelled'])
  t.strictSame([...STATUSES], ALL)
  t.strictSame(STATUS_STATE, STATE_OF)
  t.strictSame([...OPEN_STATES], ['open', 'in_progress', 'on_hold'])
  t.equal(ACTIONS.length, 21)
  t.ok(isState('on_hold'))
  t.notOk(isState('on-hold'))
  t.notOk(isState(undefined))
  t.ok(isStatus('pending'))
  t.notOk(isStatus('toString'))
  t.notOk(isStatus('Pending'))
})

t.test('the expected table only names known statuses and actions', async (t) => {
  for (const row of EXPECTED) {
    t.ok(ACTIONS.includes(row.action), row.action)
    for (const s of row.from) t.ok(ALL.includes(s), `${row.action} from ${s}`)
    // a combination must not be listed twice
    for (const a of row.actors) {
      for (const s of row.from) {
        t.equal(findRow(row.action, a, s), row, `${row.action}/${a}/${s} listed once`)
      }
    }
  }
})

// The full cross product: 4 policies x 12 statuses x 6 actors x 21 actions.
for (const action of ACTIONS) {
  t.test(`every status x actor x policy for ${action}`, async (t) => {
    for (const policy of POLICIES) {
      for (const status of ALL) {
        for (const actor of ACTOR_KINDS) {
          const got = decide(ticket(status), ACTORS[actor], action, FULL_INPUT, policy)
          t.strictSame(summary(got), expected(action, actor, status, policy), `${action} by ${actor} on ${status}, ${policyName(policy)}`)
        }
      }
    }
  })
}

t.test('refusals carry the context as params', async (t) => {
  const d = decide(ticket('completed'), ACTORS.staff, 'hold', FULL_INPUT, ALL_ON)
  t.strictSame(d, {
    ok: false,
    code: 'not_allowed_in_state',
    messageKey: 'lifecycle.refused.not_allowed_in_state',
    params: { action: 'hold', role: 'staff', state: 'closed', status: 'completed' },
  })
  const p = decide(ticket('analysis'), ACTORS.admin, 'close', FULL_INPUT, ALL_OFF)
  t.equal(p.ok === false && p.params.setting, 'staffMayCloseWithoutRequester')
})

t.test('required inputs are refused when missing or blank', async (t) => {
  const blanks: Array<[string, LifecycleInput[keyof LifecycleInput]]> = [
    ['absent', undefined],
    ['null', null],
    ['empty', ''],
    ['whitespace', '  \n\t'],
  ]
  const codes = {
    reason: 'missing_reason',
    resolution: 'missing_resolution',
    closureCategory: 'missing_closure_category',
    targetDeskId: 'missing_target_desk',
  } as const
  for (const row of EXPECTED.filter((r) => r.requires)) {
    const field = row.requires!
    for (const actor of row.actors) {
      for (const status of row.from) {
        for (const [label, value] of blanks) {
          const input: LifecycleInput = { ...FULL_INPUT, [field]: value }
          const d = decide(ticket(status), ACTORS[actor], row.action, input, ALL_ON)
          t.strictSame(
            d.ok ? d : { code: d.code, messageKey: d.messageKey, field: d.params.field },
            { code: codes[field], messageKey: `lifecycle.refused.${codes[field]}`, field },
            `${row.action} by ${actor} on ${status} with ${field} ${label}`,
          )
        }
        const alone: LifecycleInput = { [field]: FULL_INPUT[field] }
        t.ok(decide(ticket(status), ACTORS[actor], row.action, alone, ALL_ON).ok, `${row.action} needs only ${field}`)
      }
    }
  }
})

t.test('actions without required inputs need none', async (t) => {
  for (const row of EXPECTED.filter((r) => !r.requires)) {
    for (const actor of row.actors) {
      for (const status of row.from) {
        t.ok(decide(ticket(status), ACTORS[actor], row.action, {}, ALL_ON).ok, `${row.action} by ${actor} on ${status}`)
      }
    }
  }
})

t.test('a numeric desk id counts as given', async (t) => {
  const d = decide(ticket('analysis'), ACTORS.staff, 'escalate', { targetDeskId: 3 }, ALL_OFF)
  t.ok(d.ok)
  t.equal(d.ok && d.to.status, 'escalated')
})

t.test('policy toggles', async (t) => {
  const close = (p: LifecyclePolicy, status: Status) =>
    summary(decide(ticket(status), ACTORS.staff, 'close', { closureCategory: 'solved' }, p))
  t.match(close(ALL_OFF, 'analysis'), { ok: false, code: 'close_needs_requester' })
  t.match(close({ ...ALL_OFF, staffMayCloseWithoutRequester: true }, 'analysis'), {
    ok: true,
    to: { state: 'closed', status: 'completed' },
  })
  t.match(close(ALL_OFF, 'waiting_for_closure'), { ok: true, to: { status: 'completed' } }, 'resolved tickets close either way')
  t.match(close(ALL_ON, 'awaiting_approval'), { ok: false, code: 'not_allowed_in_state' }, 'unapproved requests are cancelled, not closed')
  t.match(close(ALL_ON, 'cancelled'), { ok: false, code: 'not_allowed_in_state' })

  const occurrence = (p: LifecyclePolicy, status: Status, actor: ActorKind) =>
    summary(decide(ticket(status), ACTORS[actor], 'register_occurrence', {}, p))
  t.match(occurrence(ALL_OFF, 'analysis', 'requester'), { ok: false, code: 'occurrence_via_portal_disabled' })
  t.match(occurrence({ ...ALL_OFF, occurrenceViaPortal: true }, 'analysis', 'requester'), { ok: true })
  t.match(occurrence(ALL_ON, 'new', 'requester'), { ok: false, code: 'not_allowed_in_state' })
  t.match(occurrence(ALL_ON, 'pending', 'requester'), { ok: false, code: 'not_allowed_in_state' })
  t.match(occurrence(ALL_OFF, 'pending', 'staff'), { ok: true }, 'the portal setting does not bind staff')
})

t.test('a ticket is rated once', async (t) => {
  const rate = (extra: Partial<LifecycleTicket>) => decide(ticket('completed', extra), ACTORS.requester, 'rate', {}, ALL_ON)
  t.match(rate({ rated: false }), { ok: true, to: { state: 'closed', status: 'completed' } })
  t.match(rate({ rated: undefined }), { ok: true })
  t.match(rate({ rated: true }), { ok: false, code: 'already_rated', messageKey: 'lifecycle.refused.already_rated' })
  t.match(decide(ticket('completed', { rated: true }), ACTORS.staff, 'rate', {}, ALL_ON), { code: 'forbidden_role' })
  t.notOk(allowedActions(ticket('completed', { rated: true }), ACTORS.requester, ALL_ON).includes('rate'))
})

t.test('resolve_by_origin needs a parent ticket', async (t) => {
  for (const parentId of [undefined, null, '']) {
    t.match(decide(ticket('analysis', { parentId }), ACTORS.system, 'resolve_by_origin', {}, ALL_ON), {
      ok: false,
      code: 'no_parent',
    })
  }
  t.match(decide(ticket('analysis', { parentId: 'T-9' }), ACTORS.system, 'resolve_by_origin', {}, ALL_ON), { ok: true })
})

t.test('a state that does not match its status is refused', async (t) => {
  t.match(decide({ state: 'open', status: 'analysis' }, ACTORS.staff, 'hold', FULL_INPUT, ALL_ON), {
    ok: false,
    code: 'inconsistent_state',
  })
  const unknown = { state: 'open', status: 'bogus' } as unknown as LifecycleTicket
  t.match(decide(unknown, ACTORS.admin, 'delete', {}, ALL_ON), { ok: false, code: 'inconsistent_state' })
  t.strictSame(allowedActions(unknown, ACTORS.admin, ALL_ON), [])
})

t.test('an unknown action from an untyped caller is refused', async (t) => {
  const action = 'frobnicate' as unknown as Action
  t.match(decide(ticket('new'), ACTORS.admin, action, FULL_INPUT, ALL_ON), { ok: false, code: 'forbidden_role' })
})

t.test('allowedActions agrees with decide everywhere', async (t) => {
  for (const policy of POLICIES) {
    for (const status of ALL) {
      for (const actor of ACTOR_KINDS) {
        const want = ACTIONS.filter((a) => decide(ticket(status), ACTORS[actor], a, FULL_INPUT, policy).ok)
        t.strictSame(allowedActions(ticket(status), ACTORS[actor], policy), want, `${actor} on ${status}, ${policyName(policy)}`)
      }
    }
  }
})

t.test('allowedActions examples', async (t) => {
  t.strictSame(allowedActions(ticket('waiting_for_closure'), ACTORS.requester, ALL_OFF), ['accept', 'reject', 'reopen', 'reply'])
  t.strictSame(allowedActions(ticket('completed'), ACTORS.requester, ALL_OFF), ['reply', 'rate'])
  // An accepted resolution rests until it is closed with a category: the requester may still write and rate.
  t.strictSame(allowedActions(ticket('accepted'), ACTORS.requester, ALL_OFF), ['reply', 'rate'])
  t.strictSame(allowedActions(ticket('accepted'), ACTORS.staff, ALL_OFF), ['close', 'reply', 'add_note', 'transfer'])
  t.strictSame(allowedActions(ticket('cancelled'), ACTORS.requester, ALL_ON), [])
  t.strictSame(allowedActions(ticket('new'), ACTORS.staff, ALL_OFF), [
    'pick_up',
    'categorize',
    'escalate',
    'resolve',
    'cancel',
    'reply',
    'register_occurrence',
    'add_note',
    'transfer',
  ])
  t.strictSame(allowedActions(ticket('awaiting_approval'), ACTORS.system, ALL_ON), [
    'resolve_by_origin',
    'approve',
    'reject_approval',
  ])
  t.strictSame(allowedActions(ticket('cancelled'), ACTORS.admin, ALL_ON), ['delete'])
})

t.test('impact x urgency priority matrix', async (t) => {
  const cells = [
    ['high', 'high', 'critical'],
    ['high', 'medium', 'high'],
    ['high', 'low', 'medium'],
    ['medium', 'high', 'high'],
    ['medium', 'medium', 'medium'],
    ['medium', 'low', 'low'],
    ['low', 'high', 'medium'],
    ['low', 'medium', 'low'],
    ['low', 'low', 'low'],
  ] as const
  for (const [impact, urgency, priority] of cells) {
    t.equal(priorityFor(impact, urgency), priority, `impact ${impact} x urgency ${urgency}`)
  }
})

t.test('message catalog', async (t) => {
  const keys = [
    ...STATES.map((s) => `state.${s}`),
    ...STATUSES.map((s) => `status.${s}`),
    ...ACTIONS.map((a) => `action.${a}`),
    ...REFUSAL_CODES.map((c) => `lifecycle.refused.${c}`),
  ]
  for (const locale of ['en', 'pt-BR'] as const) {
    const catalog = LIFECYCLE_MESSAGES[locale]
    t.strictSame(Object.keys(catalog).sort(), [...keys].sort(), `${locale} has exactly the lifecycle keys`)
    for (const key of keys) t.ok(catalog[key]?.trim(), `${locale} ${key}`)
  }
  t.equal(LIFECYCLE_MESSAGES['pt-BR']['status.waiting_for_closure'], 'Aguardando fechamento')

  // every messageKey decide can produce is in the catalog
  const produced = new Set<string>()
  const inputs: LifecycleInput[] = [FULL_INPUT, {}]
  for (const policy of POLICIES) {
    for (const status of ALL) {
      for (const actor of ACTOR_KINDS) {
        for (const action of ACTIONS) {
          for (const input of inputs) {
            for (const extra of [{}, { rated: true, parentId: null }]) {
              const d = decide(ticket(status, extra), ACTORS[actor], action, input, policy)
              if (!d.ok) produced.add(d.messageKey)
            }
          }
        }
      }
    }
  }
  const inconsistent = decide({ state: 'open', status: 'pending' }, ACTORS.staff, 'resume', {}, ALL_ON)
  if (!inconsistent.ok) produced.add(inconsistent.messageKey)
  t.strictSame([...produced].sort(), REFUSAL_CODES.map((c) => `lifecycle.refused.${c}`).sort(), 'every refusal code occurs')
  for (const key of produced) {
    t.ok(LIFECYCLE_MESSAGES.en[key] && LIFECYCLE_MESSAGES['pt-BR'][key], key)
  }
})

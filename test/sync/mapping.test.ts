import t from 'tap'
import { translator } from '../../src/i18n/index.js'
import {
  buildMaps, caseStatus, casePriority, ticketPriority, caseValues, changedValues, commentValues, sameComment, COMMENT_MAX, type TicketForCase
} from '../../sync/crm/mapping.js'
import { STATUSES, STATUS_STATE } from '../../src/domain/lifecycle.js'

const ctx = { publicUrl: 'https://support.example.com', t: translator('en') }

t.test('every status maps to a Case Status; the status entry wins over its state entry', async (t) => {
  const maps = buildMaps()
  const table: Record<string, string> = {
    new: 'New', awaiting_approval: 'New', analysis: 'Working', escalated: 'Escalated', pending: 'On Hold',
    waiting_for_closure: 'On Hold', accepted: 'On Hold', rejected: 'On Hold', resolved_by_event: 'On Hold', resolved_by_origin: 'On Hold',
    completed: 'Closed', cancelled: 'Closed'
  }
  for (const s of STATUSES) t.equal(caseStatus(maps, STATUS_STATE[s], s), table[s], s)
  const custom = buildMaps({ statusMap: { resolved: 'Closed', escalated: 'Working' } })
  t.equal(caseStatus(custom, 'resolved', 'waiting_for_closure'), 'Closed', 'a state entry covers its statuses')
  t.equal(caseStatus(custom, 'in_progress', 'escalated'), 'Working', 'a status entry overrides the default')
  t.equal(caseStatus(custom, 'in_progress', 'analysis'), 'Working')
})

t.test('priorities both ways; several priorities may share one Case value', async (t) => {
  const maps = buildMaps()
  t.same(['low', 'medium', 'high', 'critical'].map((p) => casePriority(maps, p as never)), ['Low', 'Medium', 'High', 'High'])
  t.equal(ticketPriority(maps, 'High', 'critical'), 'critical', 'High keeps a critical ticket critical')
  t.equal(ticketPriority(maps, 'High', 'low'), 'high')
  t.equal(ticketPriority(maps, 'low', 'high'), 'low', 'case-insensitive')
  t.equal(ticketPriority(maps, 'Urgent', 'high'), null, 'an unknown value maps to nothing')
  const custom = buildMaps({ priorityMap: { critical: 'Urgent' } })
  t.equal(casePriority(custom, 'critical'), 'Urgent')
  t.equal(ticketPriority(custom, 'Urgent', 'low'), 'critical')
})

t.test('a ticket as Case fields; only what changed since the last sync goes out', async (t) => {
  const ticket: TicketForCase = {
    id: 7, number: 1042, title: 'x'.repeat(300), description: 'Body', url: null, state: 'open', status: 'new', priority: 'medium',
    source: 'email', accountCrmId: '001A', contactCrmId: null, productCrmId: null, ownerCrmId: null, attachments: []
  }
  const v = caseValues(ticket, buildMaps(), ctx)
  t.equal(v.Subject!.length, 255, 'Subject is cut to its field length')
  t.equal(v.Origin, 'Email')
  t.notOk('OwnerId' in v, 'no CRM user for the assignee: the owner is left alone')
  t.equal(v.ContactId, null, 'unlinked references are sent empty')
  t.match(v.Description, /^Body\n\nTicket #1042 in Casebridge: https:\/\/support\.example\.com\/desk\/tickets\/1042$/)
  const shadow = new Map<string, string | null>(Object.entries(v) as [string, string | null][])
  t.same(changedValues(v, shadow, false), {}, 'nothing changed, nothing to send')
  t.same(changedValues({ ...v, Priority: 'High' }, shadow, false), { Priority: 'High' })
  t.same(Object.keys(changedValues(v, shadow, true)).sort(), Object.keys(v).sort(), 'a new Case gets every field')
})

t.test('a note as a CaseComment', async (t) => {
  const note = { id: 1, kind: 'internal', visibility: 'internal', body: 'y'.repeat(5000), authorName: 'Ana Souza', source: 'portal' as const, attachments: [{ id: 9, filename: 'log.txt' }] }
  const c = commentValues(note, ctx)
  t.equal(c.IsPublished, false)
  t.ok(c.CommentBody.length <= COMMENT_MAX, 'fits CommentBody')
  t.match(c.CommentBody, /^Ana Souza \(internal note, Portal\)\n\n/)
  t.match(c.CommentBody, /Attachments:\n- log\.txt: https:\/\/support\.example\.com\/attachments\/9$/)
  t.ok(sameComment({ CommentBody: c.CommentBody.replace(/\n/g, '\r\n'), IsPublished: false }, c), 'recognised again after a round trip')
  t.notOk(sameComment({ CommentBody: c.CommentBody, IsPublished: true }, c))
})

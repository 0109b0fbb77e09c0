import t from 'tap'
import { canonicalQuery, countLabel, mayEditView, maySeeView, mayShareWith, viewFilters } from '../../src/domain/queue-views.js'
import messages from '../../src/i18n/messages/queue-views.js'

const ana = { id: 1, role: 'staff' as const, deskIds: [10, 20] }
const eva = { id: 5, role: 'staff' as const, deskIds: [10] }
const carla = { id: 3, role: 'staff' as const, deskIds: [20] }
const admin = { id: 9, role: 'admin' as const, deskIds: [] }

t.test('who sees and who changes a view', async (t) => {
  const personal = { owner_staff_id: 1, desk_id: null, desk_manager_id: null }
  const shared = { owner_staff_id: 5, desk_id: 10, desk_manager_id: 1 }
  const cases: [string, typeof ana | typeof admin, typeof personal | typeof shared, boolean, boolean][] = [
    ['the owner, personal', ana, personal, true, true],
    ['someone else, personal', eva, personal, false, false],
    ['an admin, someone\'s personal', admin, personal, false, false],
    ['the owner, shared', eva, shared, true, true],
    ['the desk\'s manager, shared', ana, shared, true, true],
    ['an admin, shared', admin, shared, true, true],
    ['another desk', carla, shared, false, false]
  ]
  for (const [name, actor, view, sees, edits] of cases) {
    t.equal(maySeeView(actor, view), sees, `${name}: sees`)
    t.equal(mayEditView(actor, view), edits, `${name}: edits`)
  }
  t.equal(mayEditView({ id: 7, role: 'staff', deskIds: [10] }, shared), false, 'a member who is neither owner nor manager')
  t.ok(mayShareWith(ana, { manager_id: 1 }))
  t.notOk(mayShareWith(eva, { manager_id: 1 }), 'a member shares only with a desk they manage')
  t.ok(mayShareWith(admin, { manager_id: null }))
})

t.test('stored searches read back in one form', async (t) => {
  t.equal(canonicalQuery(''), '')
  t.equal(canonicalQuery('page=4&situation=open&per_page=25'), '', 'defaults and the page are left out')
  t.equal(canonicalQuery('order=asc&priority=high&per_page=50&bogus=1&sla=nope'), 'priority=high&order=asc&per_page=50', 'in a fixed order, unknown values left out')
  t.equal(viewFilters('scope=mine').scope, 'mine')
  t.equal(viewFilters('').perPage, 25)
  t.equal(countLabel('en', { total: 12, totalCapped: false }), '12')
})

t.test('the messages exist in both languages', async (t) => {
  t.same(Object.keys(messages['pt-BR']).sort(), Object.keys(messages.en).sort())
})

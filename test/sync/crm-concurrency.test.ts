// A CRM user and a staff member change the same ticket at the same moment: the later change is
// refused with a version conflict, or (when it is really the later one) applied on top of the
// other; a change is never silently overwritten, and the ticket and its Case end up agreeing.
import t from 'tap'
import { syncEnv, casesByTicket, type SyncEnv } from './helpers.js'
import { csrfFrom, loginAs, type Agent } from '../helpers/app.js'
import { crmWho, personWho } from '../../src/commands/kernel.js'
import { applyCrmCaseChange } from '../../src/commands/crm-inbound.js'
import { transferTicket } from '../../src/commands/transfer.js'
import { staffActor } from '../helpers/tickets.js'
import { depsAt } from '../helpers/commands.js'

const TITLE = 'Cannot log in to the cloud console'

async function scene(t: Parameters<typeof syncEnv>[0]) {
  const env = await syncEnv(t)
  await env.drainAll()
  await env.poll()
  const staff = async (email: string) => env.db.selectFrom('staff').select(['id', 'name', 'crm_user_id']).where('email', '=', email).executeTakeFirstOrThrow()
  return { env, ana: await staff('ana@casebridge.test'), carla: await staff('carla@casebridge.test'), diego: await staff('diego@casebridge.test') }
}

const ticketRow = (env: SyncEnv) => env.db.selectFrom('ticket').selectAll().where('title', '=', TITLE).executeTakeFirstOrThrow()
const assigneeHistory = async (env: SyncEnv, ticketId: number) =>
  (await env.db.selectFrom('ticket_event').select(['actor_type', 'to_value']).where('ticket_id', '=', ticketId).where('field', '=', 'assignee').orderBy('id').execute())

async function deskTransfer(agent: Agent, ticket: { number: number; product_id: number | null }, version: number, assigneeId: number) {
  const url = `/desk/tickets/${ticket.number}`
  const csrf = csrfFrom((await agent.get(url)).body)
  return agent.post(`${url}/transfer`, {
    _csrf: csrf, version: String(version), assignee_id: String(assigneeId), account_id: '', product_id: String(ticket.product_id ?? ''), note: 'Carla takes it over.'
  }, { noCsrf: true })
}

t.test('the desk writes first: the CRM change read before it is a conflict, not an overwrite', async (t) => {
  const { env, ana, carla, diego } = await scene(t)
  const before = await ticketRow(env)
  const deps = depsAt(env.db)
  // What the CRM sync read and decided, before the desk's change landed.
  const seen = before.version
  const desk = await transferTicket(deps, personWho(await staffActor(env.db, env.ids, 'ana@casebridge.test')), {
    ticketId: before.id, version: seen, assigneeId: before.assignee_id === carla.id ? ana.id : carla.id, note: 'Over to a colleague.'
  })
  t.ok(desk.ok, 'the desk transfer went through')
  const crm = await applyCrmCaseChange(deps, crmWho('Casey Rivera'), {
    ticketId: before.id, version: seen, transfer: { assigneeId: diego.id }, settled: { OwnerId: diego.crm_user_id }, pushBack: false
  })
  t.equal(crm.ok ? 'applied' : crm.refusal.code, 'conflict', 'the CRM change compared against the old ticket is refused')
  const after = await ticketRow(env)
  t.equal(after.assignee_id, before.assignee_id === carla.id ? ana.id : carla.id, 'the desk\'s assignee stands')
  t.notOk((await assigneeHistory(env, before.id)).some((e) => e.to_value === diego.name), 'no history row claims the CRM change')
})

t.test('the CRM writes first: the desk page read before it is a conflict, not an overwrite', async (t) => {
  const { env, diego, carla } = await scene(t)
  const before = await ticketRow(env)
  const agent = await loginAs(env.app, 'ana@casebridge.test')
  const crm = await applyCrmCaseChange(depsAt(env.db), crmWho('Casey Rivera'), {
    ticketId: before.id, version: before.version, transfer: { assigneeId: diego.id }, settled: { OwnerId: diego.crm_user_id }, pushBack: false
  })
  t.ok(crm.ok, 'the CRM change went through')
  const res = await deskTransfer(agent, before, before.version, carla.id)
  t.equal(res.statusCode, 409, 'the desk\'s stale page is refused')
  t.match(res.body, 'Someone else changed this ticket while you were working on it.')
  t.equal((await ticketRow(env)).assignee_id, diego.id, 'the CRM\'s assignee stands')
})

t.test('both at the same moment, many times: the later one conflicts or lands on top; ticket and Case agree', async (t) => {
  const { env, ana, carla, diego } = await scene(t)
  const agent = await loginAs(env.app, 'ana@casebridge.test')
  const crm = await env.crmUser()
  const targets = [diego, ana, carla]
  const outcomes = { deskWon: 0, crmWon: 0 }
  for (let round = 0; round < 8; round++) {
    const before = await ticketRow(env)
    const crmTarget = targets[round % 3].id === before.assignee_id ? targets[(round + 1) % 3] : targets[round % 3]
    // All three are on the ticket's desk (Product Support): Ana hands it to the one neither side has chosen.
    const deskTarget = targets.find((s) => s.id !== before.assignee_id && s.id !== crmTarget.id)!
    // A CRM user moves the Case; at the same moment Ana, on the page she loaded, transfers the ticket.
    await crm.sobject('Case').update({ Id: before.crm_case_id!, OwnerId: crmTarget.crm_user_id! })
    await new Promise((r) => setTimeout(r, 5))
    // Ana presses the button a little sooner or later in each round, so either side may commit first.
    const delay = [0, 60, 10, 120, 30, 200, 0, 90][round]
    const [desk, poll] = await Promise.all([
      new Promise((r) => setTimeout(r, delay)).then(() => deskTransfer(agent, before, before.version, deskTarget.id)),
      env.poll()
    ])
    t.ok([302, 409].includes(desk.statusCode), `round ${round}: the desk is answered ${desk.statusCode}`)
    t.equal(poll.failed, 0, `round ${round}: the CRM change did not fail`)
    await env.drainAll()
    await env.poll()
    const after = await ticketRow(env)
    const history = await assigneeHistory(env, after.id)
    const last = history[history.length - 1]
    const names = new Map(targets.map((s) => [s.id, s.name]))
    t.equal(last.to_value, names.get(after.assignee_id!), `round ${round}: the ticket's assignee is the last one its history records`)
    if (desk.statusCode === 302) {
      // The desk's change is the later one (the CRM user changed the Case before Ana pressed the button).
      t.equal(after.assignee_id, deskTarget.id, `round ${round}: the desk's transfer stands`)
      outcomes.deskWon++
    } else {
      t.equal(after.assignee_id, crmTarget.id, `round ${round}: the CRM's change stands and the desk was told`)
      outcomes.crmWon++
    }
    const owner = (await casesByTicket(await env.reader())).get(String(after.id))![0].OwnerId
    const assigneeUser = targets.find((s) => s.id === after.assignee_id)!.crm_user_id
    t.equal(owner, assigneeUser, `round ${round}: the Case's owner is the ticket's assignee`)
  }
  t.equal(outcomes.deskWon + outcomes.crmWon, 8)
  t.comment(`desk transfer applied ${outcomes.deskWon} times, refused as a conflict ${outcomes.crmWon} times`)
})

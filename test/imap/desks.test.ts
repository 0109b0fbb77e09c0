// New tickets by e-mail land on the desk they were addressed to (issue 14, "Structure": a desk's
// e-mail alias and the desk for mail that names none), against a real Dovecot.
import t from 'tap'
import { loginAs } from '../helpers/app.js'
import { mailEnv, MAILBOX_USER, outcomes } from './support.js'

function mail(id: string, headers: string[]): string {
  return [
    'From: Bob Stone <bob@acme.test>', ...headers, `Subject: Mail ${id}`, 'Date: Mon, 23 Nov 2026 10:21:00 +0000',
    `Message-ID: <${id}@acme.test>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', '', `Body of ${id}.`, ''
  ].join('\r\n')
}

t.test('mail to a desk’s address opens the ticket there; mail that names no desk goes to the desk marked for it', async (t) => {
  const env = await mailEnv(t)
  const { db, ids, dovecot } = env
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const deskForm = async (name: string, extra: Record<string, string>) => {
    const id = ids.desk[name]
    const page = await admin.get(`/admin/desks/${id}`)
    t.equal(page.statusCode, 200)
    const members = (await db.selectFrom('desk_member').select('staff_id').where('desk_id', '=', id).execute()).map((m) => String(m.staff_id))
    return admin.post(`/admin/desks/${id}`, { name, manager: '', members, products: [], items: [], calendar: '', auto_close_days: '', email_alias: '', ...extra }, { csrfFrom: `/admin/desks/${id}` })
  }
  t.equal((await deskForm('Service Desk', { email_alias: 'Helpdesk@Support.test' })).statusCode, 302)
  t.equal((await deskForm('Product Support', { inbound_default: 'on' })).statusCode, 302)
  t.match(await db.selectFrom('desk').select(['email_alias', 'inbound_default']).where('id', '=', ids.desk['Service Desk']).executeTakeFirstOrThrow(), { email_alias: 'helpdesk@support.test', inbound_default: 0 })

  await dovecot.append(MAILBOX_USER, 'INBOX', [
    mail('to-alias', ['To: Helpdesk <helpdesk@support.test>']),
    mail('cc-alias', ['To: Someone <someone@acme.test>', 'Cc: helpdesk@support.test']),
    mail('plain', [`To: Casebridge <${MAILBOX_USER}>`])
  ])
  const poller = env.poller().start()
  const report = await poller.runNow()
  await poller.stop()
  t.equal(report.tickets, 3, JSON.stringify(report))
  const seen = await outcomes(env)
  const deskOf = async (messageId: string) => {
    const ticketId = seen.get(`<${messageId}@acme.test>`)?.ticket_id
    return ticketId ? (await db.selectFrom('ticket').select('desk_id').where('id', '=', ticketId).executeTakeFirstOrThrow()).desk_id : undefined
  }
  t.equal(await deskOf('to-alias'), ids.desk['Service Desk'], 'sent to the desk’s address')
  t.equal(await deskOf('cc-alias'), ids.desk['Service Desk'], 'copied to it')
  t.equal(await deskOf('plain'), ids.desk['Product Support'], 'naming no desk: the desk marked for it, not the first desk')
})

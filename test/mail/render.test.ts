import t from 'tap'
import { MAIL_TEMPLATES, renderMail, templateFile } from '../../src/mail/render.js'
import { ACTIONS } from '../../src/domain/lifecycle.js'

const OPTS = { publicUrl: 'https://help.example.com', defaultLocale: 'en' as const }
const TITLE = '<script>alert("x")</script> Printer & Co'
const EVIL = 'Line one <b>bold</b> & "quoted"\nLine two'

const ENTITIES = /&(lt|gt|amp|quot|#39|#x27|nbsp);/
const MARKUP = /<(p|div|a|br|span|strong|table|html|body)\b/i
const UNTRANSLATED = /\bmail\.[a-z_]+\.[a-z_.]+/

function data(role: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    number: 42, title: TITLE, body: EVIL, reason: EVIL, resolution: EVIL, actorName: 'Ana <Admin>', recipientRole: role,
    state: 'in_progress', status: 'analysis', ...extra
  })
}

t.test('every queued template name has both variants', async (t) => {
  for (const name of MAIL_TEMPLATES) t.ok(templateFile(name), `${name} has html and text templates`)
  // Lifecycle actions that notify queue `ticket.<action>`; all of them must be covered.
  const silent = new Set(['categorize', 'reply', 'register_occurrence', 'add_note', 'delete'])
  for (const action of ACTIONS) {
    if (silent.has(action)) continue
    t.ok((MAIL_TEMPLATES as readonly string[]).includes(`ticket.${action}`), `ticket.${action} has a template`)
  }
  t.equal(templateFile('ticket.no_such_thing'), null)
  t.equal(templateFile('../../layouts/main'), null, 'names never become paths')
})

t.test('every template renders in both languages, escaped in HTML and plain in text', async (t) => {
  for (const template of [...MAIL_TEMPLATES, 'ticket.something_new']) {
    for (const locale of ['en', 'pt-BR'] as const) {
      for (const role of ['requester', 'assignee']) {
        const what = `${template} ${locale} ${role}`
        const mail = renderMail({ template, locale, data: data(role, { sla: 'breached' }) }, { ...OPTS, token: 'abcdefghijklmnopqrstuvwx' })
        t.equal(mail.subject, `[#42] ${TITLE}`, `${what}: subject carries [#42] and the title as typed`)
        t.equal(mail.locale, locale)
        t.notMatch(mail.html, /<script>/, `${what}: no script survives in HTML`)
        t.match(mail.html, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Printer &amp; Co', `${what}: the title is escaped`)
        t.notMatch(mail.text, ENTITIES, `${what}: no HTML entities in text`)
        t.notMatch(mail.text, MARKUP, `${what}: no markup in text`)
        t.match(mail.text, TITLE, `${what}: the text shows the title as typed`)
        t.notMatch(mail.text + mail.html, UNTRANSLATED, `${what}: no catalog key leaks`)
        const area = role === 'requester' ? 'portal' : 'desk'
        t.match(mail.text, `https://help.example.com/${area}/tickets/42`, `${what}: links to the ${area}`)
        t.match(mail.html, `href="https://help.example.com/${area}/tickets/42"`)
        t.match(mail.text, '[cb-ref:abcdefghijklmnopqrstuvwx]', `${what}: body marker`)
        t.match(mail.text, locale === 'en' ? 'Please type your reply above this line' : 'Digite sua resposta acima desta linha')
        t.match(mail.html, `<html lang="${locale}">`)
      }
    }
  }
})

t.test('the waiting-for-closure mail asks the requester to accept or reject', async (t) => {
  const en = renderMail({ template: 'ticket.resolve', locale: 'en', data: data('requester') }, OPTS)
  t.match(en.text, 'Ana <Admin> resolved your ticket.')
  t.match(en.text, `Resolution:\n${EVIL}`, 'the resolution, as typed, line breaks kept')
  t.match(en.text, 'Accept the solution: https://help.example.com/portal/tickets/42#accept')
  t.match(en.text, 'Reject the solution: https://help.example.com/portal/tickets/42#reject')
  t.match(en.html, 'href="https://help.example.com/portal/tickets/42#accept"')
  t.match(en.html, 'Line one &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;')
  t.match(en.html, 'Ana &lt;Admin&gt; resolved your ticket.')

  const pt = renderMail({ template: 'ticket.resolve', locale: 'pt-BR', data: data('requester') }, OPTS)
  t.match(pt.text, 'Ana <Admin> resolveu seu chamado.')
  t.match(pt.text, 'Aceitar a solução: https://help.example.com/portal/tickets/42#accept')
  t.match(pt.text, 'Situação: Em análise')

  const staff = renderMail({ template: 'ticket.resolve', locale: 'en', data: data('assignee') }, OPTS)
  t.notMatch(staff.text, '#accept', 'staff get no accept/reject links')
})

t.test('wording follows the template, the role and the data', async (t) => {
  const render = (template: string, role: string, extra: Record<string, unknown> = {}, locale = 'en') =>
    renderMail({ template, locale, data: data(role, extra) }, OPTS).text
  t.match(render('ticket.created', 'requester', { parentNumber: 7 }), 'We received your request. Ticket #42 is open')
  t.match(render('ticket.created', 'requester', { parentNumber: 7 }), 'It follows up on ticket #7.')
  t.match(render('ticket.created', 'assignee'), 'A new ticket #42 was assigned to you.')
  t.match(render('ticket.hold', 'requester'), `Ana <Admin> put your ticket on hold.`)
  t.match(render('ticket.hold', 'requester', {}, 'pt-BR'), `Ana <Admin> colocou seu chamado em espera.`)
  t.match(render('ticket.escalate', 'assignee'), 'Ticket #42 was escalated by Ana <Admin> and assigned to you.')
  t.match(render('ticket.escalate', 'desk_manager'), 'is now with your desk.')
  t.match(render('ticket.sla_escalation', 'desk_manager', { sla: 'at_risk' }), 'Ticket #42 is at risk of missing its resolution target.')
  t.match(render('ticket.sla_escalation', 'desk_manager', { sla: 'breached' }, 'pt-BR'), 'O chamado #42 ultrapassou o prazo de solução.')
  t.match(render('ticket.auto_close', 'requester', { actorName: null }), 'closed automatically')
  t.match(render('ticket.close', 'requester', { actorName: null }), 'Our support team closed your ticket.', 'a system action has a name')
  t.match(render('note.reply', 'requester', { authorName: 'Ana', actorName: undefined }), `Ana replied to your ticket:\n\n${EVIL}`)
  t.match(render('note.reply', 'assignee', { authorName: 'Bob', actorName: undefined }), `Bob replied on ticket #42:`)
  t.match(render('note.message', 'requester', { authorName: 'Ana', actorName: undefined }, 'pt-BR'), 'Ana enviou uma mensagem sobre o seu chamado:')
  t.match(render('note.occurrence', 'assignee', { authorName: 'Bob', actorName: undefined }), 'Occurrence:')
  t.match(render('ticket.something_new', 'requester'), 'There is an update on ticket #42.', 'unknown names get the generic mail')
  t.match(render('ticket.something_new', 'requester', {}, 'pt-BR'), 'Há uma atualização no chamado #42.')
  const bare = renderMail({ template: 'ticket.pick_up', locale: null, data: { number: 5, title: 'Hi', recipientRole: 'requester' } }, { ...OPTS, defaultLocale: 'pt-BR' })
  t.match(bare.text, 'Nossa equipe de suporte começou a trabalhar no seu chamado.', 'no locale: the default; no actor: the team')
  t.notMatch(bare.text, 'Situação:', 'no status line without a status')
  t.notMatch(bare.text, 'Referência', 'no marker without a token')
})

t.test('subjects stay on one line', async (t) => {
  const mail = renderMail({ template: 'ticket.hold', locale: 'en', data: { number: 9, title: 'Bcc: x@evil.test\r\nInjected: yes', recipientRole: 'requester' } }, OPTS)
  t.equal(mail.subject, '[#9] Bcc: x@evil.test Injected: yes')
  t.throws(() => renderMail({ template: 'ticket.hold', locale: 'en', data: '[1,2]' }, OPTS), TypeError, 'data must be an object')
})

t.test('a recipient without a language of their own gets DEFAULT_LOCALE', async (t) => {
  const { testApp } = await import('../helpers/app.js')
  const { makeTicket } = await import('../helpers/tickets.js')
  const env = await testApp(t, { env: { DEFAULT_LOCALE: 'pt-BR' } })
  const ticket = await makeTicket(env.db, env.ids)
  const row = await env.db.selectFrom('mail_outbox').select(['locale', 'template', 'data']).where('ticket_id', '=', ticket.id).where('recipient', '=', 'bob@acme.test').executeTakeFirstOrThrow()
  t.equal(row.locale, '', 'Bob has no language setting')
  const mail = renderMail({ template: row.template, locale: row.locale, data: row.data }, { ...OPTS, defaultLocale: 'pt-BR' })
  t.match(mail.text, 'Digite sua resposta acima desta linha')
})

import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { guard } from '../web.js'
import { ButtonForm } from '../forms.js'
import { notFound } from '../../plugins/app.js'
import { mailSending, runningWorkers } from './workers.js'
import { countMailByStatus, getMail, isMailStatus, listMail, MAIL_STATUSES, type MailRow } from '../../db/mail-outbox.js'
import { personWho } from '../../commands/kernel.js'
import { retryMail } from '../../commands/admin.js'
import { composeMail, mailSettings } from '../../mail/compose.js'
import { describeError } from '../../mail/deliver.js'
import { mailTokenKey } from '../../security/mail-key.js'

const ListQuery = Type.Object({
  status: Type.Optional(Type.String({ maxLength: 20 })),
  page: Type.Optional(Type.String({ maxLength: 10 }))
})
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) })

const PER_PAGE = 50

/**
 * The mail outbox (mounted at /admin/mail by the admin plugin): what is waiting, sent or dead,
 * each mail readable as sent, dead ones retryable.
 */
export default async function adminMail(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  // The admin plugin guards too; this keeps the outbox closed wherever it is mounted.
  fastify.addHook('preHandler', guard((r) => r.actor?.kind === 'staff' && r.actor.role === 'admin'))

  const settings = mailSettings(fastify.config)
  const key = mailTokenKey(fastify.config)
  const base = (fastify.prefix || '/admin/mail').replace(/\/+$/, '')

  // Previews use a fixed Message-ID suffix: everything else is exactly what the drainer sends.
  function preview(row: MailRow) {
    try {
      return { mail: composeMail(row, settings, key, 'preview'), error: null }
    } catch (err) {
      return { mail: null, error: describeError(err) }
    }
  }

  fastify.get('/', { schema: { querystring: ListQuery } }, async (request, reply) => {
    const query = request.query
    const status = isMailStatus(query.status) ? query.status : null
    const page = /^\d{1,6}$/.test(query.page ?? '') ? Math.max(Number(query.page), 1) : 1
    const result = await listMail(fastify.db, { status, page, perPage: PER_PAGE })
    const linkFor = (p: number, s: string | null = status) => {
      const q = new URLSearchParams()
      if (s) q.set('status', s)
      if (p > 1) q.set('page', String(p))
      const qs = q.toString()
      return qs ? `${base}?${qs}` : base
    }
    return reply.page('admin/mail', {
      title: request.t('admin.mail.title'),
      base,
      status,
      statuses: MAIL_STATUSES,
      counts: await countMailByStatus(fastify.db),
      result,
      rows: result.items.map((row) => ({ row, ...preview(row) })),
      sending: mailSending(await runningWorkers(fastify), Boolean(fastify.config.SMTP_URL)),
      linkFor: (p: number) => linkFor(p),
      statusLink: (s: string | null) => linkFor(1, s)
    })
  })

  fastify.get('/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const row = await getMail(fastify.db, request.params.id)
    if (!row) throw notFound()
    return reply.page('admin/mail-detail', {
      title: request.t('admin.mail.detail', { id: row.id }),
      base,
      row,
      ...preview(row),
      sending: mailSending(await runningWorkers(fastify), Boolean(fastify.config.SMTP_URL))
    })
  })

  fastify.post('/:id/retry', { schema: { params: IdParams, body: ButtonForm } }, async (request, reply) => {
    const row = await getMail(fastify.db, request.params.id)
    if (!row) throw notFound()
    const t = request.t
    const outcome = await retryMail({ db: fastify.db, clock: fastify.clock, random: fastify.random }, personWho(request.actor!), { mailId: row.id })
    if (outcome.ok && outcome.value) {
      request.log.info({ mailId: row.id, by: request.actor!.id }, 'dead mail queued again')
      reply.flash('success', t('admin.mail.retried'))
    } else {
      reply.flash('error', t('admin.mail.notRetryable'))
    }
    return reply.redirect(`${base}/${row.id}`)
  })
}

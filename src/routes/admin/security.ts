// Security events of every account, newest first, a page at a time (admins).
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { listSecurityEvents } from '../../db/security.js'
import type { SecurityEventKind } from '../../db/schema.js'
import { StringEnum } from '../api/v1/schemas.js'

export const EVENT_KINDS: readonly SecurityEventKind[] = [
  'login', 'login_failed', 'login_throttled', 'logout', 'password_changed', 'password_reset_requested', 'password_reset',
  'invitation_sent', 'invitation_accepted', 'session_revoked', 'sessions_revoked', 'token_created', 'token_revoked',
  'two_factor_enabled', 'two_factor_disabled', 'two_factor_failed', 'recovery_code_used', 'recovery_codes_renewed',
  'account_disabled', 'account_enabled'
]
const PAGE = 50

export default async function adminSecurity(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.get('/', {
    schema: {
      querystring: Type.Object({
        before: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
        kind: Type.Optional(StringEnum([...EVENT_KINDS, ''] as const))
      })
    }
  }, async (request, reply) => {
    const { before, kind } = request.query
    const events = await listSecurityEvents(fastify.db, { before, limit: PAGE + 1, kinds: kind ? [kind] : undefined })
    const more = events.length > PAGE
    const shown = events.slice(0, PAGE)
    const older = more ? `/admin/security?${new URLSearchParams({ before: String(shown[shown.length - 1].id), ...(kind ? { kind } : {}) })}` : null
    return reply.page('admin/security', { title: request.t('security.events.title'), events: shown, older, kinds: EVENT_KINDS, kind: kind ?? '' })
  })
}

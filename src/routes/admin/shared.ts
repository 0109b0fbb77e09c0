import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { forbidden, notFound } from '../../plugins/app.js'
import type { Refused } from '../../commands/kernel.js'
import { guard } from '../web.js'
import { Choice, Form, formFailure } from '../forms.js'

// What the administration pages that edit one thing share.

/** `/:id` as text, so /admin/x/abc is a plain 404 like an id that does not exist. */
export const IdParams = Type.Object({ id: Type.String({ maxLength: 12 }) })

/** A "turn on" / "turn off" button's form (staff, contacts, accounts). */
export const ActiveForm = Form({ active: Choice(['on', 'off'] as const) })

/**
 * What an ActiveForm posted: true to turn on, false to turn off; null when it posted neither
 * (the message is flashed, and the caller sends the browser back to the page).
 */
export function postedActive(request: FastifyRequest, reply: FastifyReply): boolean | null {
  if (formFailure(request, { active: 'validation.invalidChoice' })) {
    reply.flash('error', request.t('validation.invalidChoice'))
    return null
  }
  return (request.body as { active: string }).active === 'on'
}

/** The id in the path, or a 404. */
export function pathId(request: FastifyRequest): number {
  const raw = (request.params as { id: string }).id
  if (!/^[1-9]\d{0,8}$/.test(raw)) throw notFound()
  return Number(raw)
}

/** Ids posted by a group of checkboxes (one value or several, as numbers). */
export const Ids = Type.Array(Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), { default: [] })

/** The ids a form posted, for re-rendering it (whatever they are). */
export function postedIds(request: FastifyRequest, field: string): number[] {
  const value = (request.body as Record<string, unknown> | undefined)?.[field]
  return Array.isArray(value) ? value.map(Number).filter(Number.isInteger) : []
}

/** preHandler of every administration page: admins only (others get a 404, as for a page that is not there). */
export const adminOnly = guard((r) => r.actor?.kind === 'staff' && r.actor.role === 'admin')

/** A refusal about access or a missing record becomes its error page; any other is the form's to show. */
export function throwAccessRefusal(refusal: Refused): void {
  if (refusal.code === 'forbidden') throw forbidden()
  if (refusal.code === 'not_found') throw notFound()
}

/** What a form shows in its fields: text, and id lists for groups of checkboxes. */
export type FormValues = Record<string, unknown>

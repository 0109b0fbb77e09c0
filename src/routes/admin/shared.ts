import type { FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { notFound } from '../../plugins/app.js'

// What the administration pages that edit one thing share.

/** `/:id` as text, so /admin/x/abc is a plain 404 like an id that does not exist. */
export const IdParams = Type.Object({ id: Type.String({ maxLength: 12 }) })

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

// The managed lists' items, for any token: the codes a transition (closureCategory, reasonCode)
// and an occurrence accept, with their labels in both languages.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { listItems } from '../../../db/managed-lists.js'
import { listOf, type ManagedList } from '../../../domain/managed-lists.js'
import { ErrorResponses, StringEnum } from './schemas.js'

const ItemJson = Type.Object({ code: Type.String(), label: Type.Object({ en: Type.String(), 'pt-BR': Type.String() }), active: Type.Boolean() })
const ListsJson = Type.Object({
  occurrence_category: Type.Array(ItemJson), occurrence_origin: Type.Array(ItemJson), closure_category: Type.Array(ItemJson), cancellation_reason: Type.Array(ItemJson)
})
const Query = Type.Object({ active: Type.Optional(StringEnum(['true', 'false'] as const)) }, { additionalProperties: false })

export default async function lists(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()

  /** Every list, each in its order; `?active=true` leaves out the items turned off (no longer accepted). */
  fastify.get('/lists', { schema: { summary: 'The managed lists\' codes (closureCategory, reasonCode, occurrence category and origin), with their labels; ?active=true: only those accepted now', querystring: Query, response: { 200: ListsJson, ...ErrorResponses } } }, async (request) => {
    const items = await listItems(fastify.db)
    const activeOnly = request.query.active === 'true'
    const json = (list: ManagedList) => listOf(items, list, activeOnly).map((i) => ({ code: i.code, label: { en: i.label_en, 'pt-BR': i.label_pt }, active: i.active === 1 }))
    return {
      occurrence_category: json('occurrence_category'), occurrence_origin: json('occurrence_origin'),
      closure_category: json('closure_category'), cancellation_reason: json('cancellation_reason')
    }
  })
}

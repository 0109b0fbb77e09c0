// How the channels put a command's refusal into words: one status per kind of refusal, field
// messages under each channel's own names, in the person's language.
import t from 'tap'
import { Refused } from '../../src/commands/kernel.js'
import { translator } from '../../src/i18n/index.js'
import { fieldMessages, refusalMessage, refusalStatus, snakeCase } from '../../src/routes/refusals.js'
import { apiRefusal } from '../../src/routes/api/v1/errors.js'

const en = translator('en')
const pt = translator('pt-BR')

t.test('each refusal code has one status, the same on the pages and the API', async (t) => {
  const cases: [Refused, number][] = [
    [new Refused('not_found'), 404],
    [new Refused('forbidden'), 403],
    [new Refused('conflict'), 409],
    [new Refused('not_allowed_in_state'), 409],
    [new Refused('forbidden_role'), 409],
    [new Refused('missing_permission'), 409],
    [new Refused('close_needs_requester'), 409],
    [new Refused('already_rated'), 409],
    [new Refused('missing_reason', { field: 'reason' }), 422],
    [new Refused('missing_resolution', { field: 'resolution' }), 422],
    [new Refused('invalid', { fields: { title: { problem: 'required' } } }), 422],
    [new Refused('nothing_to_change'), 422]
  ]
  for (const [refusal, status] of cases) {
    t.equal(refusalStatus(refusal), status, refusal.code)
    t.equal(apiRefusal(en, refusal).statusCode, status, `${refusal.code} on the API`)
  }
})

t.test('field messages: the form names fields in snake_case, the API keeps the command\'s names', async (t) => {
  const refusal = new Refused('invalid', {
    fields: {
      productId: { problem: 'catalog_or_product' }, title: { problem: 'too_long', params: { max: 200 } },
      attachments: { problem: 'file_too_large', params: { filename: 'big.iso' } }
    }
  })
  t.same(fieldMessages(en, refusal, { params: { max: 25 } }), {
    product_id: 'Choose a product or a service catalog item.',
    title: 'At most 200 characters.',
    attachments: 'The file big.iso is larger than the 25 MB limit; nothing was saved.'
  })
  const api = apiRefusal(en, refusal) as unknown as { fields: Record<string, string>; code: string }
  t.equal(api.code, 'invalid')
  t.same(Object.keys(api.fields).sort(), ['attachments', 'productId', 'title'])
  t.equal(fieldMessages(pt, refusal).title, 'No máximo 200 caracteres.', 'in the person\'s language')
  t.equal(snakeCase('targetDeskId'), 'target_desk_id')
})

t.test('a form may name a field its own way and give a problem its own words', async (t) => {
  const refusal = new Refused('missing_reason', { field: 'reason', params: { field: 'reason' } })
  t.same(fieldMessages(en, refusal, { names: { reason: 'cancel_reason' } }), { cancel_reason: 'Please give a reason.' }, 'the lifecycle\'s words by default')
  t.same(fieldMessages(en, refusal, { names: { reason: 'cancel_reason' }, keys: { 'reason.required': 'validation.required' } }), { cancel_reason: 'This field is required.' })
  t.equal(refusalMessage(en, new Refused('not_allowed_in_state')), "This action is not available in the ticket's current status.")
  t.equal(refusalMessage(en, new Refused('conflict'), { conflict: 'desk.conflict' }).startsWith('Someone else changed this ticket'), true)
  const forbidden = apiRefusal(en, new Refused('forbidden'), { forbidden: 'api.error.transferStaffOnly' })
  t.match(forbidden, { statusCode: 403, code: 'forbidden', message: 'Only staff may transfer tickets.' })
  t.match(apiRefusal(en, new Refused('not_allowed_in_state')), { statusCode: 409, code: 'not_allowed' })
  t.match(apiRefusal(en, new Refused('conflict')), { statusCode: 409, code: 'conflict' })
  t.match(apiRefusal(en, new Refused('not_found')), { statusCode: 404, code: 'not_found' })
})

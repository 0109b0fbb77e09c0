// The pure rules of staff notifications: who an internal note mentions, whether a kind is mailed,
// what the bell shows, a note's excerpt.
//   npx tap test/domain/notifications.test.ts
import t from 'tap'
import { excerptOf, mentionedStaff, mentionHandles, unreadLabel, wantsEmail } from '../../src/domain/notifications.js'

t.test('mention rule, e-mail defaults and the bell label', async (t) => {
  const staff = [
    { id: 1, name: 'Ana Souza', email: 'ana@casebridge.test' },
    { id: 2, name: 'Bruno Lima', email: 'bruno@casebridge.test' },
    { id: 3, name: 'João Pereira', email: 'jp@casebridge.test' },
    { id: 4, name: 'Bruno Costa', email: 'bcosta@casebridge.test' },
    { id: 5, name: 'Alex Admin', email: 'admin@casebridge.test' }
  ]
  const cases: [string, number | null, number[], string][] = [
    ['@bruno please look', 1, [2], 'the e-mail local part'],
    ['@Bruno please look', 1, [2], 'any case'],
    ['thanks @ana.', 2, [1], 'a trailing dot ends a sentence'],
    ['@ana note to self', 1, [], 'never the author'],
    ['@joao and @JOÃO', 1, [3], 'first name, accents folded, once'],
    ['@jp', 1, [3], 'local part'],
    ['@alex', 1, [5], 'first name when unambiguous'],
    ['@admin', 1, [5], 'local part of the admin'],
    ['@bcosta @bruno @bruno', 1, [2, 4], 'each once'],
    ['mail bob@acme.test or ana@casebridge.test', 2, [], 'an address is no mention'],
    ['@nobody here', 1, [], 'unknown handle'],
    ['@', 1, [], 'a lone @'],
    ['(@bruno)', 1, [2], 'after punctuation']
  ]
  for (const [body, author, want, why] of cases) t.same(mentionedStaff(body, staff, author), want, `${why}: ${body}`)
  // First name shared by two Brunos: only the local part names one of them.
  t.same(mentionedStaff('@bruno', staff.filter((s) => s.id !== 2).concat({ id: 6, name: 'Bruno Dias', email: 'bdias@x.test' }), null), [], 'ambiguous first name names nobody')
  t.same(mentionHandles('@Ana, @ana and @bruno-'), ['ana', 'bruno'])
  t.equal(wantsEmail('assigned', null), true)
  t.equal(wantsEmail('client_replied', undefined), true)
  t.equal(wantsEmail('mentioned', null), false)
  t.equal(wantsEmail('sla_at_risk', null), false)
  t.equal(wantsEmail('approval_decided', null), false)
  t.equal(wantsEmail('assigned', 0), false)
  t.equal(wantsEmail('mentioned', 1), true)
  t.same([0, 5, 99, 100].map(unreadLabel), ['0', '5', '99', '99+'])
})

t.test('excerpts: one line, cut with an ellipsis', async (t) => {
  t.equal(excerptOf('  a\n\n b\tc  '), 'a b c')
  t.equal(excerptOf('x'.repeat(140)), 'x'.repeat(140))
  t.equal(excerptOf('word '.repeat(40), 20), 'word word word word…')
})

// Importing contacts from CSV (issue 14): the preview lists every problem per row and writes
// nothing; a clean file is imported whole (accounts created when asked), each contact invited;
// a file that went bad between preview and import writes nothing.
import t from 'tap'
import { testApp, loginAs } from '../helpers/app.js'
import { loadContactActor } from '../../src/db/people.js'

const PAGE = '/admin/accounts/import'

const BAD = [
  'Account,Name,Email,Language,Phone,Manager',
  'Acme Corporation,Quinn Lopes,quinn@acme.test,pt-BR,+55 11 5555-0102,yes', // fine
  'Acme Corporation,Rita Dias,not-an-address,en,,no', // bad e-mail
  'Nowhere Ltd,Sara Luz,sara@nowhere.test,,,', // unknown account
  'Acme Corporation,Quinn Lopes,quinn@acme.test,pt-BR,,yes', // duplicate of line 2
  'Acme Corporation,Bob Again,bob@acme.test,,,', // someone already has it
  'Acme Corporation,,tom@acme.test,xx,call me,maybe' // no name, bad language, phone, manager
].join('\n')

const GOOD = [
  '\ufeffaccount,name,email,manager,language',
  'Acme Corporation,Quinn Lopes,quinn@acme.test,yes,pt-BR',
  'Nova Pharma,Quinn Lopes,quinn@acme.test,no,pt-BR',
  'Nova Pharma,"Reis, Tomas",tomas@novapharma.test,sim,'
].join('\r\n')

async function counts(e: Awaited<ReturnType<typeof testApp>>) {
  const n = async (table: 'contact' | 'account' | 'admin_audit' | 'mail_outbox') => Number((await e.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  return { contacts: await n('contact'), accounts: await n('account'), audit: await n('admin_audit'), mail: await n('mail_outbox') }
}

t.test('a malformed file: every problem listed by line and column, nothing imported', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  t.equal((await admin.get(PAGE)).statusCode, 200)
  const before = await counts(e)
  const preview = await admin.postMultipart(`${PAGE}/preview`, {}, [{ name: 'file', filename: 'contacts.csv', content: BAD, type: 'text/csv' }], { csrfFrom: PAGE })
  t.equal(preview.statusCode, 422)
  const problems = [...preview.body.matchAll(/<tr><td>(\d+|—)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g)].map((m) => `${m[1]} ${m[2]}: ${m[3]}`)
  t.same(problems, [
    '3 email: Not an e-mail address.',
    '4 account: No account has this name (tick “create the accounts” to add it).',
    '5 —: The same contact and account as line 2.',
    '6 email: Someone already has this e-mail address.',
    '7 name: Required.',
    '7 language: Not a value this column accepts.',
    '7 phone: Not a value this column accepts.',
    '7 manager: Not a value this column accepts.'
  ], 'each problem, in file order')
  t.notMatch(preview.body, 'action="/admin/accounts/import"', 'no import button')
  // Posting the file to the import itself (skipping the preview) imports nothing either.
  const forced = await admin.postMultipart(PAGE, { csv: BAD }, [], { csrfFrom: PAGE })
  t.equal(forced.statusCode, 422)
  t.match(forced.body, 'Nothing was imported')
  t.same(await counts(e), before, 'no contact, account, audit row or mail')

  for (const [label, csv] of [['no header columns', 'who,what\nx,y'], ['no rows', 'account,name,email\n'], ['broken quotes', 'account,name,email\n"Acme,"Quinn,quinn@x.test']]) {
    const res = await admin.postMultipart(`${PAGE}/preview`, { csv }, [], { csrfFrom: PAGE })
    t.equal(res.statusCode, 422, label)
  }
})

t.test('a clean file: the preview, then every contact imported in one go, accounts created when asked', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const before = await counts(e)
  const unknown = await admin.postMultipart(`${PAGE}/preview`, { csv: GOOD }, [], { csrfFrom: PAGE })
  t.equal(unknown.statusCode, 422, 'Nova Pharma does not exist yet')
  const preview = await admin.postMultipart(`${PAGE}/preview`, { csv: GOOD, create_accounts: 'on' }, [], { csrfFrom: PAGE })
  t.equal(preview.statusCode, 200)
  t.match(preview.body, 'Ready: 2 contacts and 1 new accounts')
  t.same(await counts(e), before, 'the preview writes nothing')
  const hidden = /<textarea name="csv" hidden aria-hidden="true">([\s\S]*?)<\/textarea>/.exec(preview.body)![1]
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
  const done = await admin.postMultipart(PAGE, { csv: hidden, create_accounts: 'on' }, [], { csrfFrom: PAGE })
  t.equal(done.statusCode, 302)
  t.equal(done.headers.location, '/admin/accounts')
  const after = await counts(e)
  t.equal(after.contacts, before.contacts + 2)
  t.equal(after.accounts, before.accounts + 1)
  const quinn = await e.db.selectFrom('contact').selectAll().where('email', '=', 'quinn@acme.test').executeTakeFirstOrThrow()
  t.equal(quinn.locale, 'pt-BR')
  const actor = (await loadContactActor(e.db, quinn.id))!
  t.equal(actor.accountIds.length, 2, 'one contact in two accounts')
  t.same(actor.managerAccountIds, [e.ids.account['Acme Corporation']], 'manager where the file says so')
  const tomas = await e.db.selectFrom('contact').select('name').where('email', '=', 'tomas@novapharma.test').executeTakeFirstOrThrow()
  t.equal(tomas.name, 'Reis, Tomas', 'a quoted comma')
  t.equal(after.mail - before.mail, 2, 'each contact invited')
  const audit = await e.db.selectFrom('admin_audit').select(['entity', 'action']).orderBy('id').execute()
  t.same(audit.map((r) => `${r.entity} ${r.action}`), ['account import', 'contact import', 'contact import'])
  const again = await admin.postMultipart(PAGE, { csv: hidden, create_accounts: 'on' }, [], { csrfFrom: PAGE })
  t.equal(again.statusCode, 422, 'the same file twice: the addresses are taken now')
  t.equal((await counts(e)).contacts, after.contacts, 'and nothing is added')
})

t.test('only admins import', async (t) => {
  const e = await testApp(t)
  const ana = await loginAs(e.app, 'ana@casebridge.test')
  t.equal((await ana.get(PAGE)).statusCode, 404)
  t.equal((await ana.postMultipart(PAGE, { csv: GOOD, create_accounts: 'on' }, [], { csrfFrom: '/desk' })).statusCode, 404)
})

// `casebridge desk|product|catalog` (issue 14): the structure from the command line, through the
// same commands as the pages and the API; refusals name the field, the audit log has every change.
import t from 'tap'
import { runCli, UsageError } from '../src/cli.js'
import { testApp } from './helpers/app.js'
import type { Db } from '../src/db/index.js'

async function cli(db: Db, ...argv: string[]): Promise<string[]> {
  const printed: string[] = []
  await runCli(argv, db, (text) => printed.push(text))
  return printed
}

t.test('products, catalog entries and a desk from the CLI', async (t) => {
  const { db } = await testApp(t)
  t.match((await cli(db, 'product', 'add', '--name', 'Scanner', '--code', 'SC-1'))[0], /^added product Scanner \(#\d+\)$/)
  t.match((await cli(db, 'catalog', 'add', '--name', 'Devices'))[0], /added catalog area Devices/)
  t.match((await cli(db, 'catalog', 'add', '--name', 'Scanner jam', '--area', 'Devices', '--type', 'incident'))[0], /added catalog item Scanner jam/)
  const added = await cli(db, 'desk', 'add', '--name', 'Device Desk', '--manager', 'carla@casebridge.test', '--member', 'carla@casebridge.test',
    '--member', 'diego@casebridge.test', '--product', 'Scanner', '--item', 'Scanner jam', '--auto-close-days', '3')
  t.match(added[0], /^added desk Device Desk/)
  const desk = await db.selectFrom('desk').selectAll().where('name', '=', 'Device Desk').executeTakeFirstOrThrow()
  t.equal(desk.auto_close_days, 3)
  t.equal((await db.selectFrom('desk_member').select('staff_id').where('desk_id', '=', desk.id).execute()).length, 2)
  const list = (await cli(db, 'desk', 'list')).join('\n')
  t.match(list, /Device Desk\tmanager: Carla[^\n]*products: Scanner[^\n]*auto-close: 3/)
  t.match((await cli(db, 'desk', 'set', 'Device Desk', '--member', 'carla@casebridge.test', '--auto-close-days', 'none'))[0], 'desk Device Desk changed')
  t.equal((await db.selectFrom('desk_member').select('staff_id').where('desk_id', '=', desk.id).execute()).length, 1, 'the member list given replaces the desk’s')
  t.equal((await cli(db, 'desk', 'set', 'Device Desk'))[0], 'desk Device Desk: nothing to change')
  t.match((await cli(db, 'product', 'list')).join('\n'), /Scanner\tSC-1\tactive/)
  t.match((await cli(db, 'catalog', 'list')).join('\n'), /Devices › Scanner jam\tincident/)
  const audit = await db.selectFrom('admin_audit').select(['entity', 'action', 'actor_type']).orderBy('id').execute()
  t.same(audit.map((a) => `${a.actor_type} ${a.entity} ${a.action}`), ['system product create', 'system catalog_area create', 'system catalog_item create', 'system desk create', 'system desk update'])
})

t.test('refusals name the field and write nothing', async (t) => {
  const { db } = await testApp(t)
  const cases: [string[], RegExp][] = [
    [['desk', 'add', '--name', 'Service Desk'], /name: taken/],
    [['desk', 'add', '--name', 'X', '--manager', 'nobody@example.com'], /no staff member with e-mail nobody@example.com/],
    [['desk', 'add', '--name', 'X', '--product', 'No such product'], /product not found/],
    [['desk', 'add', '--name', 'X', '--auto-close-days', 'soon'], /--auto-close-days must be a whole number/],
    [['desk', 'add', '--name', 'X', '--auto-close-days', '400'], /autoCloseDays: out of range/],
    [['desk', 'set', 'No Desk', '--name', 'Y'], /desk not found: No Desk/],
    [['desk', 'add', '--colour', 'red'], /Unknown option/],
    [['product', 'add'], /name: required/],
    [['catalog', 'add', '--name', 'Z', '--type', 'problem'], /ticketType: invalid choice/],
    [['catalog', 'add', '--name', 'Z', '--area', 'Nope'], /catalog area not found/],
    [['product', 'remove', '--name', 'Scanner'], /^unknown command: product remove \(product takes list or add\); casebridge --help lists the commands$/],
    [['calendar'], /^calendar needs a subcommand \(list, add or set\)/]
  ]
  for (const [argv, message] of cases) {
    await t.rejects(cli(db, ...argv), { constructor: UsageError, message }, argv.join(' '))
  }
  t.equal((await db.selectFrom('admin_audit').select('id').execute()).length, 0)
})

t.test('staff and business hours from the CLI', async (t) => {
  const { db } = await testApp(t)
  t.match((await cli(db, 'staff', 'list')).join('\n'), /Ana Souza\tana@casebridge\.test\tstaff\ton\tdesks: [^\n]*Service Desk/)
  t.equal((await cli(db, 'staff', 'set', 'diego@casebridge.test', '--desk', 'Product Support', '--rate', '7500', '--available', 'no', '--locale', 'pt-BR'))[0], 'staff diego@casebridge.test changed')
  const diego = await db.selectFrom('staff').select(['id', 'hourly_rate_cents', 'available', 'locale']).where('email', '=', 'diego@casebridge.test').executeTakeFirstOrThrow()
  t.match(diego, { hourly_rate_cents: 7500, available: 0, locale: 'pt-BR' })
  t.same((await db.selectFrom('desk_member').innerJoin('desk', 'desk.id', 'desk_member.desk_id').select('desk.name').where('staff_id', '=', diego.id).execute()).map((d) => d.name), ['Product Support'])
  t.equal((await cli(db, 'staff', 'set', 'diego@casebridge.test', '--available', 'no'))[0], 'staff diego@casebridge.test: nothing to change')
  t.equal((await cli(db, 'staff', 'set', 'diego@casebridge.test', '--off')).at(-1), 'staff diego@casebridge.test changed')
  t.match((await cli(db, 'staff', 'list', '--q', 'diego'))[0], /\toff \(away\)\t/)

  t.match((await cli(db, 'calendar', 'add', '--name', 'Lisbon', '--zone', 'Europe/Lisbon', '--day', '1=09:00-18:00', '--day', '5=09:00-13:00', '--holiday', '2027-12-25 Christmas'))[0], /^added business hours Lisbon \(#\d+\)$/)
  t.match((await cli(db, 'calendar', 'list'))[0], /Lisbon\tEurope\/Lisbon\t1=09:00-18:00 2=closed[^\t]* 5=09:00-13:00 [^\t]*\tholidays: 1\tdesks: -/)
  t.equal((await cli(db, 'calendar', 'set', 'Lisbon', '--day', '1=08:00-17:00'))[0], 'business hours Lisbon changed')
  t.match((await cli(db, 'calendar', 'list'))[0], /1=08:00-17:00 2=closed 3=closed 4=closed 5=closed/, 'the days given replace the week')
  t.equal((await cli(db, 'desk', 'set', 'Service Desk', '--calendar', 'Lisbon'))[0], 'desk Service Desk changed')
  t.match((await cli(db, 'calendar', 'list'))[0], /holidays: 1\tdesks: Service Desk/)
  t.equal((await cli(db, 'desk', 'set', 'Service Desk', '--email', 'Help@Support.test', '--inbound-default'))[0], 'desk Service Desk changed')
  t.match((await cli(db, 'desk', 'list')).join('\n'), /Service Desk\t[^\n]*\tmail: help@support\.test \(default\)/)
  await t.rejects(cli(db, 'desk', 'set', 'Product Support', '--email', 'help@support.test'), { constructor: UsageError, message: /emailAlias: taken/ }, 'another desk’s address')

  const cases: [string[], RegExp][] = [
    [['staff', 'set', 'nobody@example.com', '--name', 'X'], /no staff member with e-mail nobody@example.com/],
    [['staff', 'set', 'ana@casebridge.test', '--role', 'boss'], /role: invalid choice/],
    [['staff', 'set', 'ana@casebridge.test', '--available', 'maybe'], /--available takes yes or no/],
    [['staff', 'set', 'admin@casebridge.test', '--role', 'staff'], /role: last admin/],
    [['calendar', 'add', '--name', 'Mars', '--zone', 'Mars/Olympus', '--day', '1=09:00-18:00'], /timeZone: invalid choice/],
    [['calendar', 'add', '--name', 'Odd', '--day', '1=9 to 5'], /hours/],
    [['calendar', 'add', '--name', 'Odd', '--day', 'monday=09:00-18:00'], /--day takes a weekday number/],
    [['calendar', 'set', 'Nowhere'], /business hours not found: Nowhere/]
  ]
  const before = (await db.selectFrom('admin_audit').select('id').execute()).length
  for (const [argv, message] of cases) await t.rejects(cli(db, ...argv), { constructor: UsageError, message }, argv.join(' '))
  t.equal((await db.selectFrom('admin_audit').select('id').execute()).length, before, 'refusals write nothing')
})

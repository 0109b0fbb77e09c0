import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t, { type Test } from 'tap'
import { Migrator, NO_MIGRATIONS, sql, type Kysely } from 'kysely'
import { migrationProvider, migrations } from '../../src/db/migrations/index.js'
import { isPostgres } from '../../src/db/migrations/util.js'
import { testApp } from '../helpers/app.js'
import { ROOT } from '../helpers/root.js'

// Migrations are frozen once shipped: a database that ran one never runs it again, so an edit
// reaches only new installs, and Kysely refuses to migrate a database at all when a migration
// sorts before one it has already run. Each failure below says what to do about it.

const AT = 'src/db/migrations'
const DIR = pathToFileURL(join(ROOT, AT, '/'))
/** Modules in the folder that are not migrations. */
const HELPERS = ['index.ts', 'util.ts']
const NAME = /^\d{14}_[a-z0-9]+(_[a-z0-9]+)*$/
const ADD_CHECKSUM = '`npm run migrations:checksum`'

const files = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !HELPERS.includes(f)).map((f) => f.slice(0, -'.ts'.length)).sort()
/** The files named like migrations; the first test reports the others. */
const named = files.filter((name) => NAME.test(name))
const registered = Object.keys(migrations)
const checksums = JSON.parse(readFileSync(new URL('checksums.json', DIR), 'utf8')) as Record<string, string>
const shipped = Object.keys(checksums).sort()
const sha256 = (name: string) => createHash('sha256').update(readFileSync(new URL(`${name}.ts`, DIR))).digest('hex')

/** One failing assertion per problem, each naming its fix; one passing one when there is none. */
function expectNone(t: Test, problems: string[], ok: string): void {
  if (problems.length === 0) t.pass(ok)
  for (const problem of problems) t.fail(problem)
}

t.test('each migration is a file named by its timestamp', async (t) => {
  expectNone(t, files.filter((name) => !NAME.test(name)).map((name) =>
    `${AT}/${name}.ts is not named like a migration (YYYYMMDDhhmmss_what_it_does.ts, UTC, snake_case); ` +
    `rename it, or if it is a helper module, add it to HELPERS in test/db/migrations.test.ts`), 'every file is named YYYYMMDDhhmmss_name.ts')
})

t.test('the provider lists every migration file, in name order', async (t) => {
  const problems: string[] = []
  for (const name of named.filter((f) => !registered.includes(f))) {
    problems.push(`${AT}/${name}.ts is not registered: import it in ${AT}/index.ts and add it last to \`migrations\` under '${name}'`)
  }
  for (const name of registered.filter((r) => !files.includes(r))) {
    problems.push(`'${name}' is registered in ${AT}/index.ts but there is no ${AT}/${name}.ts: the key must be the file's name without .ts`)
  }
  let latest = ''
  for (const name of registered) {
    if (name <= latest) {
      problems.push(`'${name}' is listed after '${latest}' in ${AT}/index.ts but does not sort after it: Kysely runs migrations in name ` +
        `order, whatever the listing says; a new migration needs a timestamp later than every other one (rename the file and its key), ` +
        `and the list stays in name order`)
    }
    if (name > latest) latest = name
  }
  for (const name of registered.filter((r) => files.includes(r))) {
    const module = await import(`../../src/db/migrations/${name}.js`)
    if (migrations[name] !== module) problems.push(`'${name}' in ${AT}/index.ts is given another file's module: import './${name}.js' for it`)
    if (typeof module.up !== 'function' || typeof module.down !== 'function') {
      problems.push(`${AT}/${name}.ts must export both up(db) and down(db)`)
    }
  }
  expectNone(t, problems, `index.ts lists the ${files.length} migration files, each once, in name order`)
})

t.test('a migration that shipped is never edited', async (t) => {
  const problems: string[] = []
  for (const name of shipped) {
    if (!files.includes(name)) {
      problems.push(`migration ${name} shipped (it is in ${AT}/checksums.json) but ${AT}/${name}.ts is gone: databases have run it; ` +
        `restore the file, and undo what it did with a new migration`)
    } else if (sha256(name) !== checksums[name]) {
      problems.push(`migration ${name} was edited after it shipped (${AT}/${name}.ts no longer matches its checksum): restore the ` +
        `file as it was and write a new migration, sorting after every other, for the change. (Only if it never left your branch: ` +
        `delete its entry from ${AT}/checksums.json and run ${ADD_CHECKSUM} again.)`)
    }
  }
  const lastShipped = shipped.at(-1) ?? ''
  for (const name of named.filter((f) => !(f in checksums))) {
    if (name < lastShipped) {
      problems.push(`new migration ${name} sorts before ${lastShipped}, which has shipped: a database that ran ${lastShipped} ` +
        `refuses to migrate; give it a timestamp later than every other migration (the file and its key in ${AT}/index.ts)`)
    }
    problems.push(`new migration ${name}: once it is final, add its checksum with ${ADD_CHECKSUM} (it writes ${AT}/checksums.json; ` +
      `commit that with the migration)`)
  }
  expectNone(t, problems, `the ${files.length} migrations match ${AT}/checksums.json`)
})

t.test('each down() undoes exactly what its up() did', async (t) => {
  const { db } = await testApp(t, { demo: false })
  const migrator = new Migrator({ db, provider: migrationProvider })
  const inOrder = [...registered].sort()
  t.error((await migrator.migrateTo(NO_MIGRATIONS)).error, 'every down() in turn')
  t.strictSame(await schemaOf(db), [], 'leaves an empty database')
  // Each migration's starting point as up() builds it, so that a down() that misses something
  // is caught at its own step rather than somewhere below it.
  const before: string[][] = []
  for (const name of inOrder) {
    before.push(await schemaOf(db))
    if (!t.error((await migrator.migrateUp()).error, `${name} up()`)) return
  }
  for (const name of [...inOrder].reverse()) {
    if (!t.error((await migrator.migrateDown()).error, `${name} down()`)) return
    // After a mismatch, the migrations below start from a schema they never saw: stop there.
    if (!t.strictSame(await schemaOf(db), before.pop(), `${name}: down() leaves the schema as it was before up()`)) return
  }
  t.error((await migrator.migrateToLatest()).error, 'up() again to the latest')

  const ticketIndexes = (await schemaOf(db)).filter((line) => line.startsWith('index ') && / on ticket\b/.test(line))
  t.notOk(ticketIndexes.some((line) => line.startsWith('index ticket_assignee_state_idx ')), 'no full-table twin of ticket_live_assignee_state_idx')
  t.ok(ticketIndexes.some((line) => line.startsWith('index ticket_live_assignee_state_idx ')), 'assignment counts keep their index')
})

/** Tables, columns, indexes, triggers and our functions, one line each, in a stable order. */
async function schemaOf(db: Kysely<any>): Promise<string[]> {
  if (isPostgres(db)) {
    const columns = await sql<Record<string, string | null>>`
      SELECT table_name, column_name, data_type, is_nullable, column_default, generation_expression
      FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_migration%'
      ORDER BY table_name, column_name`.execute(db)
    const indexes = await sql<{ indexname: string; tablename: string; indexdef: string }>`
      SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely_migration%'
      ORDER BY indexname`.execute(db)
    // An extension's own functions stay: pg_accents' down() leaves `unaccent` installed on purpose.
    const functions = await sql<{ name: string; def: string }>`
      SELECT p.proname AS name, pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
      ORDER BY 1, 2`.execute(db)
    return [
      ...columns.rows.map((c) => `column ${Object.values(c).join(' ')}`),
      ...indexes.rows.map((i) => `index ${i.indexname} on ${i.tablename}: ${i.indexdef}`),
      ...functions.rows.map((f) => `function ${f.name}: ${f.def}`)
    ]
  }
  const objects = await sql<{ type: string; name: string; tbl_name: string; sql: string | null }>`
    SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_migration%'
    ORDER BY type, name`.execute(db)
  const lines: string[] = []
  for (const o of objects.rows) {
    if (o.type === 'table') {
      // Columns rather than the CREATE text, which SQLite rewrites on ALTER TABLE.
      const columns = await sql<Record<string, string | number | null>>`
        SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(${o.name}) ORDER BY name`.execute(db)
      for (const c of columns.rows) lines.push(`column ${o.name} ${Object.values(c).join(' ')}`)
    } else {
      lines.push(`${o.type} ${o.name} on ${o.tbl_name}: ${(o.sql ?? '').replace(/\s+/g, ' ')}`)
    }
  }
  return lines
}

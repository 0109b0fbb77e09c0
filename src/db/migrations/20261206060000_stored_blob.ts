import { sql, type Kysely } from 'kysely'
import { isPostgres } from './util.js'

export async function up(db: Kysely<any>): Promise<void> {
  // Files kept in the database (FILE_STORE=db, the default on PostgreSQL), so web and worker
  // processes on different machines share nothing but the database. Attachments are keyed by
  // their SHA-256 (the same bytes once), export spreadsheets by their file name.
  const pg = isPostgres(db)
  await db.schema.createTable('stored_blob')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('bytes', pg ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('stored_blob_pk', ['kind', 'key'])
    .execute()
  // Files are mostly compressed already (images, PDF, XLSX), and downloads read them in slices:
  // stored uncompressed out of line, a slice reads only its own pages.
  if (pg) await sql`ALTER TABLE stored_blob ALTER COLUMN bytes SET STORAGE EXTERNAL`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stored_blob').execute()
}

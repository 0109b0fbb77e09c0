import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // A contact merged into another (the same person entered twice) keeps its row, turned off, and
  // points at the one kept: its address still finds that person (mail, login), its history reads.
  await db.schema.alterTable('contact').addColumn('merged_into_id', 'integer', (c) => c.references('contact.id')).execute()
  // A client account turned off (a contract ended): its contacts keep reading their tickets but
  // open no new ones on it, and staff open none for it.
  await db.schema.alterTable('account').addColumn('active', 'integer', (c) => c.notNull().defaultTo(1)).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('account').dropColumn('active').execute()
  await db.schema.alterTable('contact').dropColumn('merged_into_id').execute()
}

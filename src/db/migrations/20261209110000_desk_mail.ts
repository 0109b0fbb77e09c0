import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // A desk's own address (billing@..., an alias delivered to the support mailbox): mail to it opens
  // tickets on that desk. And the desk new mail goes to when it names none (before: INBOUND_DESK,
  // still read when no desk is marked).
  await db.schema.alterTable('desk').addColumn('email_alias', 'text').execute()
  await db.schema.alterTable('desk').addColumn('inbound_default', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  await db.schema.createIndex('desk_email_alias_idx').on('desk').column('email_alias').unique().execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('desk_email_alias_idx').execute()
  await db.schema.alterTable('desk').dropColumn('inbound_default').execute()
  await db.schema.alterTable('desk').dropColumn('email_alias').execute()
}

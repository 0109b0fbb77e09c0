import type { Kysely } from 'kysely'
import { withId } from './util.js'

export async function up(db: Kysely<any>): Promise<void> {
  // Sync state per IMAP mailbox: stored, never inferred from \Seen.
  await db.schema.createTable('mailbox_state')
    .addColumn('mailbox', 'text', (c) => c.primaryKey())
    .addColumn('uid_validity', 'text', (c) => c.notNull())
    .addColumn('next_uid', 'integer', (c) => c.notNull())
    .addColumn('highest_modseq', 'text')
    .addColumn('last_run_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()

  // Raw messages that could not (or must not) become notes, with the reason.
  await withId(db, db.schema.createTable('mail_quarantine'))
    .addColumn('mailbox', 'text', (c) => c.notNull())
    .addColumn('uid_validity', 'text', (c) => c.notNull())
    .addColumn('uid', 'integer', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('reason_code', 'text', (c) => c.notNull())
    .addColumn('reason_text', 'text')
    .addColumn('from_address', 'text')
    .addColumn('subject', 'text')
    .addColumn('ticket_id', 'integer', (c) => c.references('ticket.id'))
    .addColumn('raw_sha256', 'text')
    .addColumn('raw_size', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('released_at', 'text')
    .addColumn('released_by_staff_id', 'integer', (c) => c.references('staff.id'))
    .execute()
  await db.schema.createIndex('mail_quarantine_open_idx').on('mail_quarantine').columns(['released_at', 'id']).execute()

  // Every message the poller has decided on: the two unique keys are what keep a message from
  // being processed twice (a redelivery, a crash before the move, a UIDVALIDITY change).
  await withId(db, db.schema.createTable('inbound_message'))
    .addColumn('mailbox', 'text', (c) => c.notNull())
    .addColumn('uid_validity', 'text', (c) => c.notNull())
    .addColumn('uid', 'integer', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('ticket_id', 'integer', (c) => c.references('ticket.id'))
    .addColumn('note_id', 'integer', (c) => c.references('note.id'))
    .addColumn('quarantine_id', 'integer', (c) => c.references('mail_quarantine.id'))
    .addColumn('sender', 'text')
    .addColumn('moved_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('inbound_message_message_id_uq', ['message_id'])
    .addUniqueConstraint('inbound_message_uid_uq', ['mailbox', 'uid_validity', 'uid'])
    .execute()
  await db.schema.createIndex('inbound_message_unmoved_idx').on('inbound_message').columns(['mailbox', 'moved_at']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('inbound_message').ifExists().execute()
  await db.schema.dropTable('mail_quarantine').ifExists().execute()
  await db.schema.dropTable('mailbox_state').ifExists().execute()
}

import type { Kysely } from 'kysely'
import { withId } from './util.js'

export async function up(db: Kysely<any>): Promise<void> {
  // A login's session, kept on the server so it can be ended: the cookie carries only a random
  // token, whose SHA-256 is the row's key. Ended sessions stay for the account page's history.
  await withId(db, db.schema.createTable('web_session'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('staff_id', 'integer', (c) => c.references('staff.id'))
    .addColumn('contact_id', 'integer', (c) => c.references('contact.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    // Password checked, second factor still to give (staff with two-factor authentication).
    .addColumn('second_factor_pending', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ended_at', 'text')
    .addColumn('ended_reason', 'text')
    .execute()
  await db.schema.createIndex('web_session_staff_idx').on('web_session').columns(['staff_id', 'ended_at']).execute()
  await db.schema.createIndex('web_session_contact_idx').on('web_session').columns(['contact_id', 'ended_at']).execute()

  // What happened to accounts: logins, logouts, passwords, sessions, tokens, two-factor changes.
  await withId(db, db.schema.createTable('security_event'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('staff_id', 'integer', (c) => c.references('staff.id'))
    .addColumn('contact_id', 'integer', (c) => c.references('contact.id'))
    // The address typed at a failed login (no account behind it, or a wrong password).
    .addColumn('email', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('detail', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('security_event_staff_idx').on('security_event').columns(['staff_id', 'id']).execute()
  await db.schema.createIndex('security_event_contact_idx').on('security_event').columns(['contact_id', 'id']).execute()

  await db.schema.alterTable('api_token').addColumn('expires_at', 'text').execute()

  // Counters with a window (login attempts per address and per account), in the database so
  // that every web process counts the same attempts.
  await db.schema.createTable('throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addColumn('resets_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('throttle_resets_idx').on('throttle').column('resets_at').execute()

  // Single-use links that let a person set a password: "forgot password" and invitations.
  await withId(db, db.schema.createTable('account_link'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('staff_id', 'integer', (c) => c.references('staff.id'))
    .addColumn('contact_id', 'integer', (c) => c.references('contact.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute()

  // Staff two-factor authentication (TOTP): the shared secret once confirmed, and one-time
  // recovery codes (hashed).
  await db.schema.alterTable('staff').addColumn('totp_secret', 'text').execute()
  await db.schema.alterTable('staff').addColumn('totp_enabled_at', 'text').execute()
  // The last time step a code was accepted for: a code is good once (no replay within its window).
  await db.schema.alterTable('staff').addColumn('totp_last_step', 'integer').execute()
  await withId(db, db.schema.createTable('recovery_code'))
    .addColumn('staff_id', 'integer', (c) => c.notNull().references('staff.id'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('recovery_code_staff_idx').on('recovery_code').column('staff_id').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('recovery_code').execute()
  await db.schema.alterTable('staff').dropColumn('totp_last_step').execute()
  await db.schema.alterTable('staff').dropColumn('totp_enabled_at').execute()
  await db.schema.alterTable('staff').dropColumn('totp_secret').execute()
  await db.schema.dropTable('account_link').execute()
  await db.schema.dropTable('throttle').execute()
  await db.schema.alterTable('api_token').dropColumn('expires_at').execute()
  await db.schema.dropTable('security_event').execute()
  await db.schema.dropTable('web_session').execute()
}

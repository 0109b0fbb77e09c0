import { sql, type Kysely } from 'kysely'
import { isPostgres, withId } from './util.js'

// The choices a support team names its work with, kept by an admin in both languages: occurrence
// categories and origins, closure categories and cancellation reasons. A ticket or note stores an
// item's code, which never changes; its labels and whether it is still offered may. Until now
// closure categories were fixed in the code, occurrence category and origin were free text and a
// cancellation had only a written reason: the old values stay as they are and show as written.

/** The items a new organisation starts with (labels: English, Brazilian Portuguese). */
const STARTING_ITEMS: Record<string, [code: string, en: string, pt: string][]> = {
  occurrence_category: [
    ['error', 'Error', 'Erro'], ['question', 'Question', 'Dúvida'], ['information', 'Information', 'Informação'],
    ['follow_up', 'Follow-up', 'Acompanhamento'], ['maintenance', 'Maintenance', 'Manutenção']
  ],
  occurrence_origin: [
    ['phone', 'Phone call', 'Ligação telefônica'], ['email', 'E-mail', 'E-mail'], ['visit', 'On-site visit', 'Visita presencial'],
    ['monitoring', 'Monitoring', 'Monitoramento'], ['client', 'Client', 'Cliente']
  ],
  closure_category: [
    ['solved', 'Solved', 'Resolvido'], ['workaround', 'Workaround provided', 'Solução de contorno'],
    ['no_response', 'No response from the requester', 'Sem resposta do solicitante'], ['duplicate', 'Duplicate', 'Duplicado'],
    ['out_of_scope', 'Out of scope', 'Fora do escopo']
  ],
  cancellation_reason: [
    ['not_needed', 'No longer needed', 'Não é mais necessário'], ['solved_myself', 'I solved it myself', 'Resolvi por conta própria'],
    ['opened_by_mistake', 'Opened by mistake', 'Aberto por engano'], ['duplicate', 'Already asked in another ticket', 'Já solicitado em outro chamado'],
    ['other', 'Other reason', 'Outro motivo']
  ]
}

export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('list_item'))
    .addColumn('list', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('label_en', 'text', (c) => c.notNull())
    .addColumn('label_pt', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('list_item_code_idx').on('list_item').columns(['list', 'code']).unique().execute()
  // Which reason a cancellation chose (its text stays in cancel_reason).
  await db.schema.alterTable('ticket').addColumn('cancel_reason_code', 'text').execute()

  const now = new Date().toISOString()
  const rows = Object.entries(STARTING_ITEMS).flatMap(([list, items]) =>
    items.map(([code, en, pt], i) => ({ list, code, label_en: en, label_pt: pt, active: 1, position: (i + 1) * 10, created_at: now, updated_at: now })))
  await db.insertInto('list_item').values(rows).execute()

  // Read on every ticket page: kept in each process's memory like desks and products (the
  // reference-data counter of migration 20261206110000).
  if (isPostgres(db)) {
    await sql`CREATE TRIGGER list_item_reference_changed AFTER INSERT OR UPDATE OR DELETE ON list_item
      FOR EACH STATEMENT EXECUTE FUNCTION casebridge_reference_changed()`.execute(db)
  } else {
    for (const op of ['insert', 'update', 'delete'] as const) {
      await sql`CREATE TRIGGER ${sql.raw(`list_item_reference_${op}`)} AFTER ${sql.raw(op.toUpperCase())} ON list_item BEGIN
        UPDATE counter SET value = value + 1 WHERE name = 'reference_data';
      END`.execute(db)
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ticket').dropColumn('cancel_reason_code').execute()
  await db.schema.dropTable('list_item').execute()
}

import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // The service catalog areas a staff member serves, as staff_product does for products: someone
  // with any is assigned only tickets of items in those areas; someone with none, any ticket.
  await db.schema.createTable('staff_category')
    .addColumn('staff_id', 'integer', (c) => c.notNull().references('staff.id').onDelete('cascade'))
    .addColumn('category_id', 'integer', (c) => c.notNull().references('category.id'))
    .addPrimaryKeyConstraint('staff_category_pk', ['staff_id', 'category_id'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('staff_category').execute()
}

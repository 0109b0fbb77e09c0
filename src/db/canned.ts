// Canned responses as rows: those a staff member may use, one by id, and the writes.
import type { Executor } from './index.js'
import type { StaffActor } from '../domain/permissions.js'

/** Responses with their desk's name and manager and their owner's name. */
function cannedRows(db: Executor) {
  return db.selectFrom('canned_response')
    .leftJoin('desk', 'desk.id', 'canned_response.desk_id')
    .innerJoin('staff as owner', 'owner.id', 'canned_response.owner_staff_id')
    .select(['canned_response.id', 'canned_response.owner_staff_id', 'canned_response.desk_id', 'canned_response.title',
      'canned_response.body_en', 'canned_response.body_pt', 'canned_response.updated_at',
      'desk.name as desk_name', 'desk.manager_id as desk_manager_id', 'owner.name as owner_name'])
}

export type CannedRow = NonNullable<Awaited<ReturnType<typeof getCanned>>>

/** One response with its desk's name and manager, or undefined. */
export async function getCanned(db: Executor, id: number) {
  return cannedRows(db).where('canned_response.id', '=', id).executeTakeFirst()
}

/** What a staff member may use: their own personal ones and those shared with their desks (an admin: with any desk), by title. */
export async function listCannedFor(db: Executor, actor: StaffActor) {
  return cannedRows(db)
    .where((eb) => {
      const personal = eb.and([eb('canned_response.desk_id', 'is', null), eb('canned_response.owner_staff_id', '=', actor.id)])
      if (actor.role === 'admin') return eb.or([personal, eb('canned_response.desk_id', 'is not', null)])
      return actor.deskIds.length === 0 ? personal : eb.or([personal, eb('canned_response.desk_id', 'in', actor.deskIds)])
    })
    .orderBy('canned_response.title').orderBy('canned_response.id')
    .execute()
}

export interface CannedFields {
  deskId: number | null
  title: string
  bodyEn: string
  bodyPt: string
}

export async function insertCanned(db: Executor, ownerId: number, fields: CannedFields, at: string): Promise<number> {
  const row = await db.insertInto('canned_response').values({
    owner_staff_id: ownerId, desk_id: fields.deskId, title: fields.title, body_en: fields.bodyEn, body_pt: fields.bodyPt, created_at: at, updated_at: at
  }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

export async function updateCanned(db: Executor, id: number, fields: CannedFields, at: string): Promise<void> {
  await db.updateTable('canned_response').set({ desk_id: fields.deskId, title: fields.title, body_en: fields.bodyEn, body_pt: fields.bodyPt, updated_at: at })
    .where('id', '=', id).execute()
}

export async function deleteCanned(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('canned_response').where('id', '=', id).execute()
}

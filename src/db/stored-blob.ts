// Files kept in the database (FILE_STORE=db): one row per file, its bytes in a BLOB (SQLite) or
// BYTEA (PostgreSQL) column, read back in slices so a download never holds a whole file.
import { sql } from 'kysely'
import type { Executor } from './index.js'
import type { StoredBlobTable } from './schema.js'

export type BlobKind = StoredBlobTable['kind']

export interface NewBlob {
  kind: BlobKind
  key: string
  sha256: string
  bytes: Buffer
  createdAt: string
}

export async function blobSize(db: Executor, kind: BlobKind, key: string): Promise<number | null> {
  const row = await db.selectFrom('stored_blob').select('size').where('kind', '=', kind).where('key', '=', key).executeTakeFirst()
  return row ? Number(row.size) : null
}

/**
 * Stores a file. An attachment already there is left as it is (its key is its hash: the same
 * bytes); an export of the same name is replaced.
 */
export async function insertBlob(db: Executor, blob: NewBlob): Promise<void> {
  await db.insertInto('stored_blob')
    .values({ kind: blob.kind, key: blob.key, sha256: blob.sha256, size: blob.bytes.length, bytes: blob.bytes, created_at: blob.createdAt })
    .onConflict((oc) => {
      const target = oc.columns(['kind', 'key'])
      return blob.kind === 'attachment'
        ? target.doNothing()
        : target.doUpdateSet({ sha256: blob.sha256, size: blob.bytes.length, bytes: blob.bytes, created_at: blob.createdAt })
    })
    .execute()
}

/** `length` bytes of a stored file from `offset` (0-based); fewer at its end. */
export async function readBlobSlice(db: Executor, kind: BlobKind, key: string, offset: number, length: number): Promise<Buffer | null> {
  const row = await db.selectFrom('stored_blob')
    .select(sql<Buffer>`substr(bytes, ${offset + 1}, ${length})`.as('part'))
    .where('kind', '=', kind).where('key', '=', key)
    .executeTakeFirst()
  return row ? Buffer.from(row.part) : null
}

export async function readBlob(db: Executor, kind: BlobKind, key: string): Promise<Buffer | null> {
  const row = await db.selectFrom('stored_blob').select('bytes').where('kind', '=', kind).where('key', '=', key).executeTakeFirst()
  return row ? Buffer.from(row.bytes) : null
}

export async function deleteBlob(db: Executor, kind: BlobKind, key: string): Promise<void> {
  await db.deleteFrom('stored_blob').where('kind', '=', kind).where('key', '=', key).execute()
}

/** Keys, hashes and sizes of the stored files of a kind, in key order (`after` pages on). */
export async function listBlobs(db: Executor, kind: BlobKind, opts: { after?: string; limit?: number } = {}) {
  let q = db.selectFrom('stored_blob').select(['key', 'sha256', 'size']).where('kind', '=', kind)
  if (opts.after !== undefined) q = q.where('key', '>', opts.after)
  return q.orderBy('key').limit(opts.limit ?? 1000).execute()
}

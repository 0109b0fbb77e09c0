import Database from 'better-sqlite3'
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import { makeId } from './ids.js'
import type { ObjectDef, Schema } from './schema.js'

export type SfRecord = Record<string, unknown>

export interface StoredRecord {
  id: string
  type: string
  data: SfRecord
  isDeleted: boolean
  deletedAt: string | null
}

export interface TokenRow {
  token: string
  kind: 'access' | 'refresh' | 'code'
  userId: string
  clientId: string | null
  expiresAt: number | null
}

/** Salesforce's datetime format in REST responses: `2026-11-23T10:00:00.000+0000`. */
export function sfDateTime(d: Date): string {
  return d.toISOString().replace('Z', '+0000')
}

/** Parses the datetime spellings Salesforce accepts (Z, +0000, +00:00, with or without milliseconds). */
export function parseSfDateTime(value: string): Date | null {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim())
  if (!m) return null
  let zone = m[3] ?? 'Z'
  if (zone !== 'Z' && !zone.includes(':')) zone = zone.slice(0, 3) + ':' + zone.slice(3)
  const d = new Date(`${m[1]}T${m[2]}${zone}`)
  return Number.isNaN(d.getTime()) ? null : d
}

/** The emulator's own database: one JSON row per record, lookup rows for external-id/unique fields, users' passwords, tokens. */
export class EmulatorStore {
  readonly db: Database.Database
  readonly orgId: string
  private readonly stmts: ReturnType<typeof prepare>

  constructor(readonly file: string, readonly schema: Schema) {
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS seq (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS record (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        system_modstamp TEXT NOT NULL,
        is_deleted INTEGER NOT NULL DEFAULT 0,
        deleted_at TEXT
      );
      CREATE INDEX IF NOT EXISTS record_type_modstamp ON record (type, system_modstamp);
      CREATE INDEX IF NOT EXISTS record_type_deleted ON record (type, is_deleted, deleted_at);
      CREATE INDEX IF NOT EXISTS record_parent ON record (type, json_extract(data, '$.ParentId'));
      CREATE TABLE IF NOT EXISTS lookup (type TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, id TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS lookup_value ON lookup (type, field, value);
      CREATE INDEX IF NOT EXISTS lookup_id ON lookup (id);
      CREATE TABLE IF NOT EXISTS credential (user_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS token (
        token TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        user_id TEXT NOT NULL,
        client_id TEXT,
        expires_at INTEGER
      );
    `)
    this.stmts = prepare(this.db)
    const org = this.stmts.getMeta.get('orgId')?.value
    if (org) {
      this.orgId = org
    } else {
      this.orgId = makeId('00D', Math.floor(Math.random() * 1e9))
      this.stmts.setMeta.run('orgId', this.orgId)
    }
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  /** Runs `fn` in a transaction (a savepoint when nested); a throw rolls it back. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  meta(key: string): string | undefined {
    return this.stmts.getMeta.get(key)?.value
  }

  setMeta(key: string, value: string): void {
    this.stmts.setMeta.run(key, value)
  }

  nextSeq(name: string): number {
    return this.stmts.nextSeq.get(name)!.value
  }

  newId(obj: ObjectDef): string {
    return makeId(obj.keyPrefix, this.nextSeq(`id:${obj.keyPrefix}`))
  }

  get(id: string): StoredRecord | undefined {
    const row = this.stmts.get.get(id)
    return row ? toStored(row) : undefined
  }

  /** Records of one type in insertion order, optionally narrowed by SystemModstamp range or ids. */
  list(type: string, opts: { includeDeleted?: boolean; modstampFrom?: string; modstampTo?: string; ids?: string[] } = {}): StoredRecord[] {
    const where = ['type = ?']
    const params: unknown[] = [type]
    if (!opts.includeDeleted) where.push('is_deleted = 0')
    if (opts.modstampFrom !== undefined) { where.push('system_modstamp >= ?'); params.push(opts.modstampFrom) }
    if (opts.modstampTo !== undefined) { where.push('system_modstamp <= ?'); params.push(opts.modstampTo) }
    if (opts.ids) {
      if (opts.ids.length === 0) return []
      where.push(`id IN (SELECT value FROM json_each(?))`)
      params.push(JSON.stringify(opts.ids))
    }
    const rows = this.db.prepare(`SELECT id, type, data, is_deleted, deleted_at FROM record WHERE ${where.join(' AND ')} ORDER BY rowid`).all(...params) as RawRow[]
    return rows.map(toStored)
  }

  /** Live records of `type` whose ParentId is `parentId` (a Case's comments); uses the ParentId index. */
  childrenOf(type: string, parentId: string): StoredRecord[] {
    return this.stmts.children.all(type, parentId).map(toStored)
  }

  count(type: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM record WHERE type = ? AND is_deleted = 0').get(type) as { n: number }).n
  }

  insert(obj: ObjectDef, data: SfRecord): void {
    const id = data.Id as string
    this.stmts.insert.run(id, obj.name, JSON.stringify(data), data.SystemModstamp as string)
    this.indexLookups(obj, data)
  }

  update(obj: ObjectDef, data: SfRecord): void {
    const id = data.Id as string
    this.stmts.update.run(JSON.stringify(data), data.SystemModstamp as string, id)
    this.stmts.dropLookups.run(id)
    this.indexLookups(obj, data)
  }

  softDelete(data: SfRecord, deletedAt: string): void {
    const id = data.Id as string
    this.stmts.softDelete.run(JSON.stringify(data), data.SystemModstamp as string, deletedAt, id)
    this.stmts.dropLookups.run(id)
  }

  /** Live record ids whose external-id/unique field equals `value` (case-insensitive), oldest first. */
  findBy(obj: ObjectDef, field: string, value: unknown): string[] {
    return this.stmts.lookup.all(obj.name, field, lookupKey(value)).map((r) => r.id)
  }

  deletedBetween(type: string, from: string, to: string): Array<{ id: string; deletedDate: string }> {
    return this.stmts.deletedBetween.all(type, from, to).map((r) => ({ id: r.id, deletedDate: r.deleted_at }))
  }

  earliestDeleted(type: string): string | null {
    return this.stmts.earliestDeleted.get(type)?.d ?? null
  }

  private indexLookups(obj: ObjectDef, data: SfRecord): void {
    for (const f of obj.fields) {
      if (!(f.externalId || f.unique)) continue
      const v = data[f.name]
      if (v === null || v === undefined || v === '') continue
      this.stmts.addLookup.run(obj.name, f.name, lookupKey(v), data.Id as string)
    }
  }

  setPassword(userId: string, password: string): void {
    const salt = randomBytes(16)
    const hash = scryptSync(password, salt, 32, { N: 1024 })
    this.stmts.setCredential.run(userId, `${salt.toString('hex')}:${hash.toString('hex')}`)
  }

  /** The user can no longer sign in with a password (only through the connected app). */
  dropPassword(userId: string): void {
    this.stmts.dropCredential.run(userId)
  }

  hasPassword(userId: string): boolean {
    return this.stmts.credential.get(userId) !== undefined
  }

  checkPassword(userId: string, password: string): boolean {
    const row = this.stmts.credential.get(userId)
    if (!row) return false
    const [saltHex, hashHex] = row.password_hash.split(':')
    const expected = Buffer.from(hashHex, 'hex')
    const actual = scryptSync(password, Buffer.from(saltHex, 'hex'), 32, { N: 1024 })
    return timingSafeEqual(expected, actual)
  }

  /** Ends every session and refresh token of one user (their password changed). */
  dropUserTokens(userId: string): void {
    this.stmts.dropUserTokens.run(userId)
  }

  /** Ends tokens issued to any other connected app than `clientId` (the app's credentials changed). */
  dropOtherClientsTokens(clientId: string): void {
    this.stmts.dropOtherClients.run(clientId)
  }

  addToken(row: TokenRow): void {
    this.stmts.addToken.run(row.token, row.kind, row.userId, row.clientId, row.expiresAt)
  }

  getToken(token: string): TokenRow | undefined {
    const r = this.stmts.getToken.get(token)
    return r ? { token: r.token, kind: r.kind, userId: r.user_id, clientId: r.client_id, expiresAt: r.expires_at } : undefined
  }

  dropToken(token: string): void {
    this.stmts.dropToken.run(token)
  }

  /** Every access token issued so far stops working at `nowMs`. */
  expireAccessTokens(nowMs: number): void {
    this.stmts.expireAccess.run(nowMs - 1, nowMs - 1)
  }

  purgeExpiredTokens(beforeMs: number): void {
    this.stmts.purgeTokens.run(beforeMs)
  }
}

function prepare(db: Database.Database) {
  return {
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    nextSeq: db.prepare<[string], { value: number }>('INSERT INTO seq (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value'),
    get: db.prepare<[string], RawRow>('SELECT id, type, data, is_deleted, deleted_at FROM record WHERE id = ?'),
    children: db.prepare<[string, string], RawRow>(
      "SELECT id, type, data, is_deleted, deleted_at FROM record WHERE type = ? AND json_extract(data, '$.ParentId') = ? AND is_deleted = 0 ORDER BY rowid"),
    insert: db.prepare('INSERT INTO record (id, type, data, system_modstamp) VALUES (?, ?, ?, ?)'),
    update: db.prepare('UPDATE record SET data = ?, system_modstamp = ? WHERE id = ?'),
    softDelete: db.prepare('UPDATE record SET data = ?, system_modstamp = ?, is_deleted = 1, deleted_at = ? WHERE id = ?'),
    lookup: db.prepare<[string, string, string], { id: string }>(
      // lookup rows exist only for live records (softDelete drops them)
      'SELECT id FROM lookup WHERE type = ? AND field = ? AND value = ? ORDER BY rowid'),
    addLookup: db.prepare('INSERT INTO lookup (type, field, value, id) VALUES (?, ?, ?, ?)'),
    dropLookups: db.prepare('DELETE FROM lookup WHERE id = ?'),
    deletedBetween: db.prepare<[string, string, string], { id: string; deleted_at: string }>(
      'SELECT id, deleted_at FROM record WHERE type = ? AND is_deleted = 1 AND deleted_at >= ? AND deleted_at < ? ORDER BY deleted_at, id'),
    earliestDeleted: db.prepare<[string], { d: string | null }>('SELECT MIN(deleted_at) AS d FROM record WHERE type = ? AND is_deleted = 1'),
    credential: db.prepare<[string], { password_hash: string }>('SELECT password_hash FROM credential WHERE user_id = ?'),
    setCredential: db.prepare('INSERT INTO credential (user_id, password_hash) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash'),
    dropCredential: db.prepare('DELETE FROM credential WHERE user_id = ?'),
    dropUserTokens: db.prepare('DELETE FROM token WHERE user_id = ?'),
    dropOtherClients: db.prepare('DELETE FROM token WHERE client_id IS NOT NULL AND client_id != ?'),
    getToken: db.prepare<[string], { token: string; kind: TokenRow['kind']; user_id: string; client_id: string | null; expires_at: number | null }>(
      'SELECT token, kind, user_id, client_id, expires_at FROM token WHERE token = ?'),
    addToken: db.prepare('INSERT INTO token (token, kind, user_id, client_id, expires_at) VALUES (?, ?, ?, ?, ?)'),
    dropToken: db.prepare('DELETE FROM token WHERE token = ?'),
    expireAccess: db.prepare("UPDATE token SET expires_at = ? WHERE kind = 'access' AND (expires_at IS NULL OR expires_at > ?)"),
    purgeTokens: db.prepare("DELETE FROM token WHERE expires_at IS NOT NULL AND expires_at < ?")
  }
}

interface RawRow {
  id: string
  type: string
  data: string
  is_deleted: number
  deleted_at: string | null
}

function toStored(row: RawRow): StoredRecord {
  return { id: row.id, type: row.type, data: JSON.parse(row.data) as SfRecord, isDeleted: row.is_deleted === 1, deletedAt: row.deleted_at }
}

export function lookupKey(value: unknown): string {
  return String(value).toLowerCase()
}

// Files a queued mail carries (an export's spreadsheet): the outbox row names them in its data
// as `attachments: [{ path, filename, contentType }]` (the disk store) or `[{ kind, key, filename,
// contentType }]` (the database store); the drainer attaches those still there.
import { existsSync, statSync } from 'node:fs'
import { isAbsolute, relative, resolve } from 'node:path'
import { checkedKey, type FileKind, type FileStore } from '../storage/attachments.js'
import { parseData, type MailRowLike } from './render.js'

export type MailAttachment = { filename: string; contentType: string } & ({ path: string } | { content: Buffer })

export interface MailFiles {
  attachments: MailAttachment[]
  /** Some named file is gone (expired, deleted): the mail goes without it and says so. */
  missing: boolean
}

function inside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path))
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}

const KINDS: readonly string[] = ['attachment', 'export'] satisfies FileKind[]

function validKey(kind: FileKind, key: string): string | null {
  try {
    return checkedKey(kind, key)
  } catch {
    return null
  }
}

/** The row's attachments that exist: on disk (under `root`, when given) or in `store`. */
export async function mailFiles(row: MailRowLike, root?: string, store?: Pick<FileStore, 'read'>): Promise<MailFiles> {
  const listed = parseData(row.data).attachments
  const out: MailFiles = { attachments: [], missing: false }
  if (!Array.isArray(listed)) return out
  for (const item of listed as unknown[]) {
    const a = item as { path?: unknown; kind?: unknown; key?: unknown; filename?: unknown; contentType?: unknown } | null
    if (!a || typeof a.filename !== 'string') continue
    const contentType = typeof a.contentType === 'string' ? a.contentType : 'application/octet-stream'
    if (typeof a.kind === 'string' && KINDS.includes(a.kind) && typeof a.key === 'string') {
      const key = validKey(a.kind as FileKind, a.key)
      // A store that cannot answer throws: the mail is tried again, not sent without its file.
      const content = store && key ? await store.read(a.kind as FileKind, key) : null
      if (content) out.attachments.push({ filename: a.filename, content, contentType })
      else out.missing = true
      continue
    }
    if (typeof a.path !== 'string' || !isAbsolute(a.path)) continue
    const ok = (!root || inside(root, a.path)) && existsSync(a.path) && statSync(a.path).isFile()
    if (!ok) {
      out.missing = true
      continue
    }
    out.attachments.push({ filename: a.filename, path: a.path, contentType })
  }
  return out
}

/** The row with `attached: 'no'` in its data, so the message tells the reader where to download instead. */
export function withoutAttachments<R extends MailRowLike>(row: R): R {
  return { ...row, data: JSON.stringify({ ...parseData(row.data), attached: 'no' }) }
}

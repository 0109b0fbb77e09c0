// Files a queued mail carries (an export's spreadsheet): the outbox row names them in its data
// as `attachments: [{ path, filename, contentType }]`; the drainer attaches those still on disk.
import { existsSync, statSync } from 'node:fs'
import { isAbsolute, relative, resolve } from 'node:path'
import { parseData, type MailRowLike } from './render.js'

export interface MailAttachment {
  filename: string
  path: string
  contentType: string
}

export interface MailFiles {
  attachments: MailAttachment[]
  /** Some named file is gone (expired, deleted): the mail goes without it and says so. */
  missing: boolean
}

function inside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path))
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}

/** The row's attachments that exist (and lie under `root`, when given). */
export function mailFiles(row: MailRowLike, root?: string): MailFiles {
  const listed = parseData(row.data).attachments
  const out: MailFiles = { attachments: [], missing: false }
  if (!Array.isArray(listed)) return out
  for (const item of listed as unknown[]) {
    const a = item as Partial<MailAttachment> | null
    if (!a || typeof a.path !== 'string' || typeof a.filename !== 'string' || !isAbsolute(a.path)) continue
    const ok = (!root || inside(root, a.path)) && existsSync(a.path) && statSync(a.path).isFile()
    if (!ok) {
      out.missing = true
      continue
    }
    out.attachments.push({ filename: a.filename, path: a.path, contentType: typeof a.contentType === 'string' ? a.contentType : 'application/octet-stream' })
  }
  return out
}

/** The row with `attached: 'no'` in its data, so the message tells the reader where to download instead. */
export function withoutAttachments<R extends MailRowLike>(row: R): R {
  return { ...row, data: JSON.stringify({ ...parseData(row.data), attached: 'no' }) }
}

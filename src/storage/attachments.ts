import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { cleanText, clipText } from '../domain/text.js'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

export interface StoredFile {
  filename: string
  contentType: string
  size: number
  sha256: string
}

export interface UploadedFile extends StoredFile {
  tmpPath: string
  truncated: boolean
}

const SAFE_INLINE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain'])

/** Browsers' file names may carry paths and control characters: keep the last segment, printable only. */
export function cleanFilename(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? ''
  const cleaned = clipText(cleanText(base).replace(/[\u0000-\u001f\u007f"]/g, '').trim(), 200)
  return cleaned || 'attachment'
}

export function cleanContentType(type: string | undefined): string {
  const t = (type ?? '').toLowerCase().split(';')[0].trim()
  return /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(t) ? t : 'application/octet-stream'
}

/** Inline only for types a browser cannot run as a page; everything else downloads. */
export function dispositionFor(contentType: string): 'inline' | 'attachment' {
  return SAFE_INLINE.has(contentType) ? 'inline' : 'attachment'
}

/**
 * What a stored file is: an attachment (kept by its SHA-256, so the same bytes are stored once,
 * and never changed) or an export's spreadsheet (kept by its file name, deleted when it expires).
 */
export type FileKind = 'attachment' | 'export'

/** How a queued mail names a file it attaches: a path on disk, or a file in the database store. */
export type MailFileRef = { path: string } | { kind: FileKind; key: string }

/**
 * Where files live: on disk (`AttachmentStore`, below) or in the database
 * (`DatabaseFileStore`, src/db/file-store.ts), chosen by FILE_STORE. Both behave alike: uploads
 * arrive in a local temporary file first, `keep` moves them into the store. Writes take the
 * transaction of the command that keeps the file (`tx`): the database store writes in it, so
 * the file and the rows naming it commit (or not) together; the disk ignores it.
 */
export interface FileStore<Tx = unknown> {
  readonly backend: 'fs' | 'db'
  /** Streams an upload to a local temporary file, hashing as it goes. */
  receive(stream: Readable & { truncated?: boolean }, filename: string | undefined, mimetype: string | undefined): Promise<UploadedFile>
  /** Removes received files that were not kept. */
  discard(files: UploadedFile[]): Promise<void>
  /** Moves a received file into content-addressed storage (same bytes are stored once). */
  keep(file: UploadedFile, tx?: Tx): Promise<StoredFile>
  keepBuffer(filename: string, contentType: string, data: Buffer, tx?: Tx): Promise<StoredFile>
  /** Moves a finished local file (an export) into the store under `key`; its size in bytes. */
  putFile(kind: FileKind, key: string, localPath: string, tx?: Tx): Promise<number>
  /** The stored file's size, or null when there is none. */
  size(kind: FileKind, key: string): Promise<number | null>
  /** The stored file's bytes as a stream (an error when there is none). */
  open(kind: FileKind, key: string): Promise<Readable>
  /** The stored file's bytes, or null when there is none. */
  read(kind: FileKind, key: string): Promise<Buffer | null>
  remove(kind: FileKind, key: string, tx?: Tx): Promise<void>
  /** How a queued mail names the file, so the mail drain finds it (on another machine too). */
  mailRef(kind: FileKind, key: string): MailFileRef
}

const SHA256 = /^[0-9a-f]{64}$/

/** A stored file's key, checked: an attachment's is its SHA-256 (hex), an export's a plain file name. */
export function checkedKey(kind: FileKind, key: string): string {
  const ok = kind === 'attachment' ? SHA256.test(key) : key !== '' && basename(key) === key && key !== '.' && key !== '..'
  if (!ok) throw new Error(`not a stored ${kind} key: ${JSON.stringify(key)}`)
  return key
}

/** A pass-through stream that counts and hashes (SHA-256) the bytes going through it. */
export function hashingMeter(): { stream: Transform; result: () => { size: number; sha256: string } } {
  const hash = createHash('sha256')
  let size = 0
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk)
      size += chunk.length
      cb(null, chunk)
    }
  })
  return { stream, result: () => ({ size, sha256: hash.digest('hex') }) }
}

/** Streams an upload to a new file in `dir`, hashing as it goes. */
export async function receiveToTemp(dir: string, stream: Readable & { truncated?: boolean }, filename: string | undefined, mimetype: string | undefined): Promise<UploadedFile> {
  await mkdir(dir, { recursive: true })
  const tmpPath = join(dir, randomUUID())
  const meter = hashingMeter()
  await pipeline(stream, meter.stream, createWriteStream(tmpPath))
  const { size, sha256 } = meter.result()
  return {
    filename: cleanFilename(filename), contentType: cleanContentType(mimetype), size,
    sha256, tmpPath, truncated: Boolean(stream.truncated)
  }
}

export function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/** The disk store (FILE_STORE=fs): attachments under `root` by their hash, exports under `exportsDir` by name. */
export class AttachmentStore implements FileStore {
  readonly backend = 'fs'
  readonly exportsDir: string

  constructor(readonly root: string, exportsDir?: string) {
    // DATA_DIR/attachments and DATA_DIR/exports side by side, as config.ts lays them out.
    this.exportsDir = exportsDir ?? join(root, '..', 'exports')
  }

  private tmpDir() {
    return join(this.root, 'tmp')
  }

  pathFor(sha256: string): string {
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256)
  }

  /** Where a stored file of either kind lies. */
  pathOf(kind: FileKind, key: string): string {
    checkedKey(kind, key)
    return kind === 'attachment' ? this.pathFor(key) : join(this.exportsDir, key)
  }

  async receive(stream: Readable & { truncated?: boolean }, filename: string | undefined, mimetype: string | undefined): Promise<UploadedFile> {
    return receiveToTemp(this.tmpDir(), stream, filename, mimetype)
  }

  async keep(file: UploadedFile): Promise<StoredFile> {
    const target = this.pathFor(file.sha256)
    const exists = await stat(target).then(() => true, () => false)
    if (exists) {
      await rm(file.tmpPath, { force: true })
    } else {
      await mkdir(join(target, '..'), { recursive: true })
      await rename(file.tmpPath, target)
    }
    return { filename: file.filename, contentType: file.contentType, size: file.size, sha256: file.sha256 }
  }

  async keepBuffer(filename: string, contentType: string, data: Buffer): Promise<StoredFile> {
    const sha256 = sha256Of(data)
    const target = this.pathFor(sha256)
    await mkdir(join(target, '..'), { recursive: true })
    await writeFile(target, data)
    return { filename: cleanFilename(filename), contentType: cleanContentType(contentType), size: data.length, sha256 }
  }

  async discard(files: UploadedFile[]): Promise<void> {
    await Promise.all(files.map((f) => rm(f.tmpPath, { force: true })))
  }

  async putFile(kind: FileKind, key: string, localPath: string): Promise<number> {
    const target = this.pathOf(kind, key)
    await mkdir(join(target, '..'), { recursive: true })
    await rename(localPath, target)
    return (await stat(target)).size
  }

  async size(kind: FileKind, key: string): Promise<number | null> {
    const info = await stat(this.pathOf(kind, key)).catch(() => null)
    return info?.isFile() ? info.size : null
  }

  async open(kind: FileKind, key: string): Promise<Readable> {
    return createReadStream(this.pathOf(kind, key))
  }

  async read(kind: FileKind, key: string): Promise<Buffer | null> {
    return readFile(this.pathOf(kind, key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null
      throw err
    })
  }

  async remove(kind: FileKind, key: string): Promise<void> {
    await rm(this.pathOf(kind, key), { force: true })
  }

  mailRef(kind: FileKind, key: string): MailFileRef {
    return { path: this.pathOf(kind, key) }
  }
}

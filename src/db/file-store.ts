// The database backend of the file store (FILE_STORE=db, the default on PostgreSQL): files live
// in `stored_blob`, so web and worker processes on different machines share nothing but the
// database. Uploads still arrive in a local temporary file, which `keep` reads into the row.
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { Config } from '../config.js'
import {
  AttachmentStore, checkedKey, cleanContentType, cleanFilename, receiveToTemp, sha256Of,
  type FileKind, type FileStore, type MailFileRef, type StoredFile, type UploadedFile
} from '../storage/attachments.js'
import type { Db, Executor } from './index.js'
import { blobSize, deleteBlob, insertBlob, readBlob, readBlobSlice } from './stored-blob.js'

/** Bytes read per query while a stored file streams out. */
export const SLICE_BYTES = 1 << 20

export class DatabaseFileStore implements FileStore<Executor> {
  readonly backend = 'db'

  /** `tmpDir`: a local folder for uploads on their way in. */
  constructor(readonly db: Db, readonly tmpDir: string, private readonly sliceBytes = SLICE_BYTES) {}

  async receive(stream: Readable & { truncated?: boolean }, filename: string | undefined, mimetype: string | undefined): Promise<UploadedFile> {
    return receiveToTemp(this.tmpDir, stream, filename, mimetype)
  }

  async discard(files: UploadedFile[]): Promise<void> {
    await Promise.all(files.map((f) => rm(f.tmpPath, { force: true })))
  }

  async keep(file: UploadedFile, tx?: Executor): Promise<StoredFile> {
    const db = tx ?? this.db
    // Hashed as it arrived: bytes already stored under that hash need not travel again.
    if ((await blobSize(db, 'attachment', file.sha256)) === null) {
      const bytes = await readFile(file.tmpPath)
      if (bytes.length !== file.size) throw new Error(`upload ${file.tmpPath} changed on disk (${bytes.length} bytes, received ${file.size})`)
      await insertBlob(db, { kind: 'attachment', key: file.sha256, sha256: file.sha256, bytes, createdAt: new Date().toISOString() })
    }
    await rm(file.tmpPath, { force: true })
    return { filename: file.filename, contentType: file.contentType, size: file.size, sha256: file.sha256 }
  }

  async keepBuffer(filename: string, contentType: string, data: Buffer, tx?: Executor): Promise<StoredFile> {
    const db = tx ?? this.db
    const sha256 = sha256Of(data)
    if ((await blobSize(db, 'attachment', sha256)) === null) {
      await insertBlob(db, { kind: 'attachment', key: sha256, sha256, bytes: data, createdAt: new Date().toISOString() })
    }
    return { filename: cleanFilename(filename), contentType: cleanContentType(contentType), size: data.length, sha256 }
  }

  async putFile(kind: FileKind, key: string, localPath: string, tx?: Executor): Promise<number> {
    checkedKey(kind, key)
    const bytes = await readFile(localPath)
    const sha256 = sha256Of(bytes)
    if (kind === 'attachment' && sha256 !== key) throw new Error(`an attachment is stored under its SHA-256; ${localPath} does not hash to ${key}`)
    await insertBlob(tx ?? this.db, { kind, key, sha256, bytes, createdAt: new Date().toISOString() })
    await rm(localPath, { force: true })
    return bytes.length
  }

  async size(kind: FileKind, key: string): Promise<number | null> {
    return blobSize(this.db, kind, checkedKey(kind, key))
  }

  async open(kind: FileKind, key: string): Promise<Readable> {
    const size = await blobSize(this.db, kind, checkedKey(kind, key))
    if (size === null) throw Object.assign(new Error(`no stored ${kind} ${key}`), { code: 'ENOENT' })
    const { db, sliceBytes } = this
    async function* slices() {
      for (let offset = 0; offset < size!; offset += sliceBytes) {
        const part = await readBlobSlice(db, kind, key, offset, Math.min(sliceBytes, size! - offset))
        // Only an export can go (it expired while being downloaded): end with an error, not a short file.
        if (!part || part.length === 0) throw Object.assign(new Error(`stored ${kind} ${key} is gone`), { code: 'ENOENT' })
        yield part
      }
    }
    return Readable.from(slices(), { objectMode: false })
  }

  async read(kind: FileKind, key: string): Promise<Buffer | null> {
    return readBlob(this.db, kind, checkedKey(kind, key))
  }

  async remove(kind: FileKind, key: string, tx?: Executor): Promise<void> {
    await deleteBlob(tx ?? this.db, kind, checkedKey(kind, key))
  }

  mailRef(kind: FileKind, key: string): MailFileRef {
    return { kind, key: checkedKey(kind, key) }
  }
}

/** The file store FILE_STORE names: on disk under DATA_DIR, or in the database. */
export function createFileStore(config: Pick<Config, 'fileStore' | 'dataDir' | 'attachmentsDir' | 'exportsDir'>, db: Db): FileStore<Executor> {
  return config.fileStore === 'db'
    ? new DatabaseFileStore(db, join(config.dataDir, 'tmp'))
    : new AttachmentStore(config.attachmentsDir, config.exportsDir)
}

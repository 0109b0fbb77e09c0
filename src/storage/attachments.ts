import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
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

export class AttachmentStore {
  constructor(readonly root: string) {}

  private tmpDir() {
    return join(this.root, 'tmp')
  }

  pathFor(sha256: string): string {
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256)
  }

  /** Streams an upload to a temp file, hashing as it goes. */
  async receive(stream: Readable & { truncated?: boolean }, filename: string | undefined, mimetype: string | undefined): Promise<UploadedFile> {
    await mkdir(this.tmpDir(), { recursive: true })
    const tmpPath = join(this.tmpDir(), randomUUID())
    const hash = createHash('sha256')
    let size = 0
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk)
        size += chunk.length
        cb(null, chunk)
      }
    })
    await pipeline(stream, meter, createWriteStream(tmpPath))
    return {
      filename: cleanFilename(filename), contentType: cleanContentType(mimetype), size,
      sha256: hash.digest('hex'), tmpPath, truncated: Boolean(stream.truncated)
    }
  }

  /** Moves a received file into content-addressed storage (same bytes are stored once). */
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
    const sha256 = createHash('sha256').update(data).digest('hex')
    const target = this.pathFor(sha256)
    await mkdir(join(target, '..'), { recursive: true })
    const { writeFile } = await import('node:fs/promises')
    await writeFile(target, data)
    return { filename: cleanFilename(filename), contentType: cleanContentType(contentType), size: data.length, sha256 }
  }

  async discard(files: UploadedFile[]): Promise<void> {
    await Promise.all(files.map((f) => rm(f.tmpPath, { force: true })))
  }

  open(sha256: string): Readable {
    return createReadStream(this.pathFor(sha256))
  }
}

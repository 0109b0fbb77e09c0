import { createHash, randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Config } from '../config.js'

/**
 * The thread-token key: MAIL_TOKEN_SECRET when set, else one generated once and kept under
 * DATA_DIR (web and worker share it there; separate machines need MAIL_TOKEN_SECRET).
 */
export function mailTokenKey(config: Pick<Config, 'MAIL_TOKEN_SECRET' | 'dataDir'>): Buffer {
  if (config.MAIL_TOKEN_SECRET) {
    return createHash('sha256').update('casebridge-mail-token:').update(config.MAIL_TOKEN_SECRET).digest()
  }
  const file = join(config.dataDir, 'mail-token.key')
  return Buffer.from(keptOnce(file, () => randomBytes(32).toString('base64')).trim(), 'base64')
}

/**
 * The content of a generated file under DATA_DIR: read when it exists, else made by `make` and
 * kept (mode 0600). Written aside then linked into place: when processes race, the first link
 * wins and nobody ever reads a half-written file.
 */
export function keptOnce(file: string, make: () => string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  writeFileSync(tmp, make(), { mode: 0o600 })
  try {
    linkSync(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    rmSync(tmp, { force: true })
  }
  return readFileSync(file, 'utf8')
}

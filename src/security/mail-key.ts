import { createHash, randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
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
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(config.dataDir, { recursive: true })
  // Written aside then linked into place: when web and worker race, the first link wins and
  // nobody ever reads a half-written key.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  writeFileSync(tmp, randomBytes(32).toString('base64'), { mode: 0o600 })
  try {
    linkSync(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    rmSync(tmp, { force: true })
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')
}

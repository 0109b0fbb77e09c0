import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../src/config.js'
import { mailSettings } from '../../src/mail/compose.js'

t.test('mail settings: defaults, secrets from files, and refusals that name the setting', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-mailcfg-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))

  const plain = loadConfig({ DATA_DIR: dir })
  t.equal(plain.SMTP_URL, undefined, 'no SMTP by default: mail waits in the outbox')
  t.equal(plain.MAIL_FROM, 'Casebridge <support@localhost>')
  t.equal(plain.MAIL_MAX_ATTEMPTS, 8)
  t.same(mailSettings(plain), {
    from: 'Casebridge <support@localhost>', replyBase: 'support@localhost', domain: 'localhost',
    publicUrl: 'http://localhost:3000', defaultLocale: 'en', maxAttempts: 8
  })

  writeFileSync(join(dir, 'smtp'), 'smtp://user:secret@mail.example.com:587\n')
  writeFileSync(join(dir, 'token'), 'k'.repeat(48))
  const full = loadConfig({
    DATA_DIR: dir, SMTP_URL_FILE: join(dir, 'smtp'), MAIL_TOKEN_SECRET_FILE: join(dir, 'token'),
    MAIL_FROM: 'Acme Help <help@acme.example>', REPLY_TO_ADDRESS: 'replies@in.acme.example', MAIL_MAX_ATTEMPTS: '5'
  })
  t.equal(full.SMTP_URL, 'smtp://user:secret@mail.example.com:587', 'SMTP_URL_FILE')
  t.equal(full.MAIL_TOKEN_SECRET, 'k'.repeat(48), 'MAIL_TOKEN_SECRET_FILE')
  t.match(mailSettings(full), { replyBase: 'replies@in.acme.example', domain: 'in.acme.example', maxAttempts: 5 })

  t.throws(() => loadConfig({ DATA_DIR: dir, SMTP_URL: 'user:secret@mail.example.com' }), { name: 'ConfigError', message: /SMTP_URL: .*\(got \[redacted\]\)/ })
  try {
    loadConfig({ DATA_DIR: dir, SMTP_URL: 'user:secret@mail.example.com' })
  } catch (err) {
    t.notMatch((err as Error).message, 'secret', 'the password is not echoed')
  }
  t.throws(() => loadConfig({ DATA_DIR: dir, REPLY_TO_ADDRESS: 'support+x@example.com' }), { message: /REPLY_TO_ADDRESS/ }, 'the base address has no plus part of its own')
  t.throws(() => loadConfig({ DATA_DIR: dir, MAIL_TOKEN_SECRET: 'short' }), { message: /MAIL_TOKEN_SECRET/ })
  t.throws(() => loadConfig({ DATA_DIR: dir, MAIL_MAX_ATTEMPTS: '0' }), ConfigError)
})

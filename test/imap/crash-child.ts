// Runs the poller in a child process that kills itself (SIGKILL, no cleanup) right after the
// first message's note is committed and before it is moved: the crash-safety test's victim.
import pino from 'pino'
import { loadConfig } from '../../src/config.js'
import { createDb } from '../../src/db/index.js'
import { ImapPoller } from '../../sync/imap/poller.js'

const config = loadConfig(process.env)
const db = await createDb(config.databaseUrl)
const poller = new ImapPoller({
  config, db, log: pino({ level: 'silent' }),
  afterCommit: () => {
    process.kill(process.pid, 'SIGKILL')
  }
})
poller.start()
await poller.runNow()

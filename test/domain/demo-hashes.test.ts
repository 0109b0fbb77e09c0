// The demo passwords' hashes are constants (src/db/seed.ts): each must verify its password, with
// the parameters new hashes use.
import t from 'tap'
import { DEMO_PASSWORDS, DEMO_PASSWORD_HASHES } from '../../src/db/seed.js'
import { hashPassword, verifyPassword } from '../../src/security/password.js'

t.test('each demo hash verifies its password and no other, with today\'s parameters', async (t) => {
  const params = (hash: string) => hash.split('$').slice(0, 4).join('$')
  const current = params(await hashPassword('anything at all'))
  for (const role of Object.keys(DEMO_PASSWORDS) as (keyof typeof DEMO_PASSWORDS)[]) {
    t.ok(await verifyPassword(DEMO_PASSWORDS[role], DEMO_PASSWORD_HASHES[role]), `${role} verifies`)
    t.notOk(await verifyPassword(`${DEMO_PASSWORDS[role]}x`, DEMO_PASSWORD_HASHES[role]), `${role}: another password does not`)
    t.equal(params(DEMO_PASSWORD_HASHES[role]), current, `${role}: the parameters new hashes use`)
  }
})

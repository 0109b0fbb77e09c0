import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  base32Decode, base32Encode, bodyMarker, messageIdFor, replyAddressFor, signToken, threadRootId,
  tokenFromAddress, tokenFromMessageId, tokensFromBody, tokensFromReferences, verifyToken, type ThreadClaims
} from '../../src/domain/thread-token.js'
import { mailTokenKey } from '../../src/security/mail-key.js'

const KEY = createHash('sha256').update('test key one').digest()
const OTHER = createHash('sha256').update('test key two').digest()

t.test('base32 round-trips bytes of every length and refuses foreign characters', async (t) => {
  for (let n = 0; n < 40; n++) {
    const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 255))
    const text = base32Encode(bytes)
    t.match(text, /^[a-z2-7]*$/, `length ${n} is lower-case base32`)
    t.same(base32Decode(text), bytes, `length ${n} round-trips`)
  }
  t.equal(base32Decode('abc1'), null, 'digit 1 is not in the alphabet')
  t.equal(base32Decode('ABC'), null, 'upper case is normalised by verifyToken, not by the decoder')
})

t.test('tokens carry the ticket, the note and the recipient kind', async (t) => {
  const cases: ThreadClaims[] = [
    { ticketId: 1 },
    { ticketId: 42, recipient: 'requester' },
    { ticketId: 42, recipient: 'assignee', noteId: 7 },
    { ticketId: 99_999, recipient: 'desk_manager' },
    { ticketId: 123_456_789, noteId: 987_654_321 },
    { ticketId: Number.MAX_SAFE_INTEGER, noteId: Number.MAX_SAFE_INTEGER, recipient: 'desk_manager' }
  ]
  for (const claims of cases) {
    const token = signToken(claims, KEY)
    t.match(token, /^[a-z2-7]{16,64}$/, `${JSON.stringify(claims)}: lower-case base32`)
    const local = replyAddressFor('support@example.com', token).split('@')[0]
    t.ok(local.length <= 64, `${JSON.stringify(claims)}: the plus-address fits a local part (${local.length})`)
    const expected: ThreadClaims = { ticketId: claims.ticketId }
    if (claims.noteId) expected.noteId = claims.noteId
    if (claims.recipient) expected.recipient = claims.recipient
    t.same(verifyToken(token, KEY), expected, `${JSON.stringify(claims)}: round trip`)
    t.same(verifyToken(token.toUpperCase(), KEY), expected, 'an MTA that changes the case does not break it')
    t.equal(verifyToken(token, OTHER), null, 'another key refuses it')
  }
  t.equal(signToken({ ticketId: 5 }, KEY), signToken({ ticketId: 5 }, KEY), 'deterministic: the thread root is stable')
  t.not(signToken({ ticketId: 5 }, KEY), signToken({ ticketId: 6 }, KEY))
  t.throws(() => signToken({ ticketId: 0 }, KEY), RangeError)
  t.throws(() => signToken({ ticketId: 1.5 }, KEY), RangeError)
})

t.test('tampered and malformed tokens are refused', async (t) => {
  const token = signToken({ ticketId: 42, noteId: 3, recipient: 'requester' }, KEY)
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  let refused = 0
  for (let i = 0; i < token.length; i++) {
    const swapped = alphabet[(alphabet.indexOf(token[i]) + 1) % 32]
    if (verifyToken(token.slice(0, i) + swapped + token.slice(i + 1), KEY) === null) refused++
  }
  t.equal(refused, token.length, 'every single-character change is refused')
  // A token for ticket 43 cannot be made by editing the one for 42.
  const other = signToken({ ticketId: 43, noteId: 3, recipient: 'requester' }, KEY)
  t.equal(verifyToken(other.slice(0, 10) + token.slice(10), KEY), null, 'spliced payload and signature')
  const table: [string, string][] = [
    ['', 'empty'],
    ['short', 'too short'],
    [token.slice(0, -1), 'truncated'],
    [token + 'a', 'extended'],
    [token.replace(/./, '1'), 'foreign character'],
    ['a'.repeat(80), 'too long'],
    ['a'.repeat(30), 'all zero bits']
  ]
  for (const [bad, why] of table) t.equal(verifyToken(bad, KEY), null, why)
})

t.test('tokens are found in Message-IDs, References, plus-addresses and body markers', async (t) => {
  const token = signToken({ ticketId: 42, recipient: 'assignee' }, KEY)
  const id = messageIdFor(token, 'k3x9q2', 'example.com')
  t.equal(id, `<cb.${token}.k3x9q2@example.com>`)
  t.equal(tokenFromMessageId(id), token)
  t.equal(tokenFromMessageId(id.toUpperCase()), token, 'case-insensitive')
  t.equal(tokenFromMessageId(`cb.${token}.x@example.com`), token, 'without angle brackets')
  t.equal(tokenFromMessageId('<CAF=abc123@mail.gmail.com>'), null, 'a foreign Message-ID')
  t.equal(tokenFromMessageId('<cb.short.x@example.com>'), null)

  const root = threadRootId(42, KEY, 'example.com')
  t.match(root, /^<cb\.[a-z2-7]+\.thread@example\.com>$/)
  t.same(verifyToken(tokenFromMessageId(root)!, KEY), { ticketId: 42 }, 'the thread root names the ticket')
  t.same(tokensFromReferences(`<CAF=1@mail.gmail.com>\r\n ${root}  ${id}`), [tokenFromMessageId(root), token], 'References in order')
  t.same(tokensFromReferences(undefined), [])

  const reply = replyAddressFor('support@example.com', token)
  t.equal(reply, `support+${token}@example.com`)
  t.equal(tokenFromAddress(reply), token)
  t.equal(tokenFromAddress(`"Support" <${reply.toUpperCase()}>`), token, 'display name and upper case')
  t.equal(tokenFromAddress('support@example.com'), null, 'no plus part')
  t.equal(tokenFromAddress('support+news@example.com'), null, 'a plus part that is no token')
  t.throws(() => replyAddressFor('nobody', token), RangeError)

  const body = `Thanks!\n\nOn Monday Support wrote:\n> Reference: ${bodyMarker(token)}\n`
  t.same(tokensFromBody(body), [token])
  t.same(tokensFromBody(body.toUpperCase()), [token])
  t.same(tokensFromBody('no marker here'), [])
})

t.test('the key comes from MAIL_TOKEN_SECRET, else from a file kept under DATA_DIR', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-key-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const first = mailTokenKey({ dataDir: dir })
  t.equal(first.length, 32)
  t.ok(readFileSync(join(dir, 'mail-token.key'), 'utf8').length > 0, 'the generated key is kept')
  t.same(mailTokenKey({ dataDir: dir }), first, 'and read again next time')
  const fromSecret = mailTokenKey({ dataDir: dir, MAIL_TOKEN_SECRET: 'x'.repeat(40) })
  t.not(fromSecret.toString('hex'), first.toString('hex'))
  t.same(mailTokenKey({ dataDir: '/nonexistent', MAIL_TOKEN_SECRET: 'x'.repeat(40) }), fromSecret, 'a secret needs no file')
})

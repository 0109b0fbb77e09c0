// How much of what people write survives the mail intake: runs the reply cleaning over every
// fixture in test/fixtures/mail/replies/ and prints the share kept exactly, and each miss.
//
//   npm run mail:score              the score and the misses (exit 1 if any)
//   npm run mail:score -- --diff    each miss with the expected and the kept text
import { cleaned, replyFixtures } from '../test/imap/reply-fixtures.js'

const showDiff = process.argv.includes('--diff')
const fixtures = replyFixtures()
const misses: { name: string; expected: string; got: string }[] = []
for (const f of fixtures) {
  const { text } = await cleaned(f.raw)
  if (text !== f.expected) misses.push({ name: f.name, expected: f.expected, got: text })
}

for (const m of misses) {
  process.stdout.write(`MISS ${m.name}\n`)
  if (showDiff) process.stdout.write(`--- expected\n${m.expected}\n--- kept\n${m.got}\n\n`)
}
process.stdout.write(`kept exactly: ${fixtures.length - misses.length} / ${fixtures.length}\n`)
if (misses.length > 0) process.exitCode = 1

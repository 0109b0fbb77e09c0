// Every reply fixture of test/fixtures/mail/replies/ (one per mail client and way of answering),
// cleaned as the poller cleans it: the note keeps exactly what its author wrote
// (NAME.expected.txt), and the original keeps all of the message. `npm run mail:score` prints
// the same comparison as a score.
import t from 'tap'
import { cleaned, replyFixtures } from './reply-fixtures.js'
import { headerAt, isClientLine, isDisclaimer, isPrintLine, splitLine, withoutImages } from '../../sync/imap/reply-lines.js'

const fixtures = replyFixtures()

t.test('the fixture set covers the clients and ways of answering', async (t) => {
  t.ok(fixtures.length >= 60, `${fixtures.length} fixtures`)
  const families = ['gmail', 'gmail-android', 'samsung', 'outlook', 'owa', 'outlook-ios', 'outlook-android', 'outlook-mac', 'apple', 'ios', 'thunderbird', 'yahoo', 'proton', 'zimbra', 'notes', 'html-only']
  for (const f of families) t.ok(fixtures.some((x) => x.name === f || x.name.startsWith(`${f}-`)), `${f}`)
  for (const way of ['inline', 'bottom', 'forward', '-pt']) t.ok(fixtures.filter((x) => x.name.includes(way)).length >= 3, `several "${way}"`)
})

t.test('each reply keeps exactly what its author wrote', async (t) => {
  for (const f of fixtures) {
    const { text, original } = await cleaned(f.raw)
    t.equal(text, f.expected, f.name)
    // Nothing is made up: every line kept is a line of the message.
    const lines = new Set(original.split('\n').map((l) => l.replace(/^[> ]+/, '').trim()))
    const invented = text.split('\n').map((l) => l.replace(/^[> ]+/, '').trim()).filter((l) => l && !lines.has(l))
    t.same(invented, [], `${f.name}: every kept line is in the original`)
    if (!/forward/.test(f.name)) t.not(original, text, `${f.name}: the original keeps what was removed`)
  }
})

t.test('what clients and servers add, line by line', async (t) => {
  for (const line of ['Sent from my iPhone', 'Enviado do meu iPhone', 'Get Outlook for iOS<https://aka.ms/o0ukef>', 'Obter o Outlook para Android<https://aka.ms/AAb9ysg>', 'Sent with Proton Mail secure email.', 'Enviado do Yahoo Mail para iPhone']) {
    t.ok(isClientLine(line), `client line: ${line}`)
  }
  t.notOk(isClientLine('Sent from my phone because the laptop is broken, and the error shows on both of them every single time.'), 'a long sentence is the author\'s')
  t.ok(isPrintLine('Please consider the environment before printing this e-mail.'))
  t.ok(isPrintLine('Antes de imprimir, pense em seu compromisso com o Meio Ambiente.'))
  t.ok(isDisclaimer('CONFIDENTIALITY NOTICE: This e-mail message is for the sole use of the intended recipient(s) and may contain confidential information.'))
  t.ok(isDisclaimer('Esta mensagem pode conter informação confidencial. Se você não for o destinatário, apague-a e avise o remetente.'))
  t.notOk(isDisclaimer('Please delete my old account, it was created in error last week by our former admin.'), 'no confidentiality: not a disclaimer')
  t.equal(withoutImages('Logo: [image: Acme logo] [imagem: logo.png] [cid:image001.png@01DB3D5A.7F1E2B30].'), 'Logo:   .')
  const header = (text: string) => headerAt(text.split('\n').map(splitLine), 0)
  t.same(header('On Mon, Nov 23, 2026 at 10:00 AM Casebridge <support@localhost>\nwrote:'), { lines: 2 }, 'a wrapped attribution')
  t.same(header('Em seg., 23 de nov. de 2026 às 10:00, Casebridge <support@localhost>\nescreveu:'), { lines: 2 }, 'in Portuguese')
  t.same(header('> On 23 Nov 2026, at 10:00, Casebridge <support@localhost> wrote:'), { lines: 1 }, 'quoted (Apple Mail)')
  t.same(header('Casebridge <support@localhost> wrote on 23/11/2026 10:00:00:'), { lines: 1 }, 'Notes')
  t.same(header('\u2010\u2010\u2010\u2010\u2010\u2010\u2010 Original Message \u2010\u2010\u2010\u2010\u2010\u2010\u2010\nOn Monday, November 23, 2026 10:00 AM, Casebridge <support@localhost> wrote:'), { lines: 2 }, 'Proton, with Unicode hyphens')
  t.same(header('De:\tCasebridge <support@localhost>\nPara:\tAlice\nData:\t23/11/2026 10:00\nAssunto:\t[#1] Erro'), { lines: 4 }, 'Notes in Portuguese')
  t.same(header('---------- Forwarded message ---------\nFrom: *Billing* <b@vendor.test>\nDate: Mon\nSubject: X\nTo: <a@acme.test>'), { lines: 5 }, 'a Gmail forward')
  t.same(header('Begin forwarded message:\n\n> From: Billing <b@vendor.test>'), { lines: 3 }, 'an iPhone forward (its fields are quoted)')
  t.equal(header('From 9:00 to 17:00 we were offline.\nDate: unknown'), null, 'prose is no header')
  t.equal(header('On Monday I tried again.'), null)
})

// The text both databases store alike: table tests of src/domain/text.ts.
import t from 'tap'
import { cleanText, clipText, hasForbiddenControl } from '../../src/domain/text.js'

t.test('hasForbiddenControl and cleanText', async (t) => {
  const cases: { name: string; text: string; forbidden: boolean; clean: string }[] = [
    { name: 'plain text', text: 'Printer jams', forbidden: false, clean: 'Printer jams' },
    { name: 'empty', text: '', forbidden: false, clean: '' },
    { name: 'tab, LF, CR are text', text: 'a\tb\nc\r\nd', forbidden: false, clean: 'a\tb\nc\r\nd' },
    { name: 'accents, CJK, emoji (a valid pair)', text: 'café 中文 😀 👍🏽', forbidden: false, clean: 'café 中文 😀 👍🏽' },
    { name: 'DEL and C1 controls are not C0', text: 'a\u007f\u0085\u009fb', forbidden: false, clean: 'a\u007f\u0085\u009fb' },
    { name: 'U+FFFD and U+FFFF', text: '\uFFFD\uFFFF', forbidden: false, clean: '\uFFFD\uFFFF' },
    { name: 'NUL', text: 'a\u0000b', forbidden: true, clean: 'ab' },
    { name: 'only NULs', text: '\u0000\u0000', forbidden: true, clean: '' },
    { name: 'U+0001', text: '\u0001x', forbidden: true, clean: 'x' },
    { name: 'backspace', text: 'x\b', forbidden: true, clean: 'x' },
    { name: 'vertical tab and form feed', text: 'a\u000b\u000cb', forbidden: true, clean: 'ab' },
    { name: 'U+000E and U+001F', text: '\u000ea\u001f', forbidden: true, clean: 'a' },
    { name: 'escape sequence', text: '\u001b[31mred', forbidden: true, clean: '[31mred' },
    { name: 'lone high surrogate', text: 'a\uD83Db', forbidden: true, clean: 'a\uFFFDb' },
    { name: 'lone low surrogate', text: 'a\uDE00b', forbidden: true, clean: 'a\uFFFDb' },
    { name: 'high surrogate at the end', text: 'cut \uD83D', forbidden: true, clean: 'cut \uFFFD' },
    { name: 'low surrogate at the start', text: '\uDE00x', forbidden: true, clean: '\uFFFDx' },
    { name: 'swapped pair', text: '\uDE00\uD83D', forbidden: true, clean: '\uFFFD\uFFFD' },
    { name: 'two highs then a low: one lone, one pair', text: '\uD83D\uD83D\uDE00', forbidden: true, clean: '\uFFFD😀' },
    { name: 'a pair beside a lone low', text: '😀\uDE00', forbidden: true, clean: '😀\uFFFD' },
    { name: 'both kinds', text: '\u0000\uD800', forbidden: true, clean: '\uFFFD' }
  ]
  for (const c of cases) {
    t.equal(hasForbiddenControl(c.text), c.forbidden, `${c.name}: forbidden`)
    const cleaned = cleanText(c.text)
    t.equal(cleaned, c.clean, `${c.name}: cleaned`)
    t.notOk(hasForbiddenControl(cleaned), `${c.name}: clean text passes`)
    t.equal(Buffer.from(cleaned, 'utf8').toString('utf8'), cleaned, `${c.name}: survives a UTF-8 round trip`)
  }
  t.equal(hasForbiddenControl('x'.repeat(100_000) + '\u0000'), true, 'found at the end of a long text')
  t.equal(hasForbiddenControl('a\u0000b'), true, 'the same answer twice in a row (no regex state)')
})

t.test('clipText never cuts a surrogate pair', async (t) => {
  const cases: [string, number, string][] = [
    ['abc', 5, 'abc'],
    ['abc', 3, 'abc'],
    ['abcdef', 3, 'abc'],
    ['ab😀', 3, 'ab'],
    ['ab😀', 4, 'ab😀'],
    ['a😀b', 2, 'a'],
    ['a😀b', 3, 'a😀'],
    ['😀', 1, ''],
    ['abc', 0, '']
  ]
  for (const [text, max, want] of cases) {
    const got = clipText(text, max)
    t.equal(got, want, `${JSON.stringify(text)} at ${max}`)
    t.notOk(hasForbiddenControl(got), 'no lone surrogate left')
  }
})

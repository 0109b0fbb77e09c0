import t from 'tap'
import type { Test } from 'tap'
import { articleText, excerpt, textDiff, kbDecide, kbReaderOf, kbVisible, normalizeTags, renderArticle, sanitizeArticleHtml, scrubPersonalData, slugify, type KbActor } from '../../src/domain/kb.js'

// Payloads of the kinds the OWASP XSS filter evasion list collects: script tags, event handlers,
// javascript: and data: URLs (plain, encoded, mixed case, with whitespace), SVG, iframes, styles,
// forms, meta refresh, and Markdown's own link and image syntax carrying them.
const PAYLOADS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '<a href="javascript:alert(1)">x</a>',
  '<body onload=alert(1)>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  '<style>@import "javascript:alert(1)";</style>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<form action="javascript:alert(1)"><button>x</button></form>',
  '<object data="javascript:alert(1)"></object>',
  '<embed src="javascript:alert(1)">',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<details open ontoggle=alert(1)>',
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click](  javascript:alert(1))',
  '[click](javascript&#58;alert(1))',
  '[click](&#106;avascript:alert(1))',
  '[click](vbscript:msgbox(1))',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '![x](javascript:alert(1))',
  '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)',
  '![x](x" onerror="alert(1))',
  '[x](https://example.com" onclick="alert(1))',
  '<a href="https://example.com" onclick="alert(1)">x</a>',
  '`<script>alert(1)</script>`',
  '```\n<script>alert(1)</script>\n```',
  '<scr<script>ipt>alert(1)</script>',
  '<<script>script>alert(1)<</script>/script>',
  '<IMG SRC="jav&#x09;ascript:alert(1);">',
  '<img src="x" onerror="&#97;lert(1)">',
  '<input autofocus onfocus=alert(1)>',
  '<video><source onerror=alert(1)></video>',
  '<base href="javascript:alert(1)//">',
  '<link rel=stylesheet href="javascript:alert(1)">',
  'https://example.com/<script>alert(1)</script>'
]

/** The real tags of some HTML (escaped text such as `&lt;script&gt;` is text, not a tag): name and attributes. */
function tagsOf(html: string): { name: string; attrs: string }[] {
  return [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g)].map((m) => ({ name: m[1].toLowerCase(), attrs: m[2] }))
}

const SAFE_TAGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'strong', 'em', 's', 'del', 'code', 'pre', 'blockquote',
  'ul', 'ol', 'li', 'a', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td'])

function assertSafe(t: Test, html: string, what: string) {
  for (const tag of tagsOf(html)) {
    t.ok(SAFE_TAGS.has(tag.name), `${what}: only safe elements (${tag.name})`)
    t.notMatch(tag.attrs, /\son[a-z]+\s*=/i, `${what}: no event handler on <${tag.name}>`)
    t.notMatch(tag.attrs, /\s(style|srcdoc|formaction)\s*=/i, `${what}: no style or srcdoc on <${tag.name}>`)
    for (const m of tag.attrs.matchAll(/\s(href|src)\s*=\s*"([^"]*)"/gi)) {
      t.match(m[2], /^(https?:|mailto:|\/(?!\/)|#|[^:]*$)/i, `${what}: a safe URL in <${tag.name}> (${m[2]})`)
    }
  }
}

t.test('no payload survives rendering as markup that can run', async (t) => {
  for (const p of PAYLOADS) {
    const html = renderArticle(`Before\n\n${p}\n\nAfter`)
    assertSafe(t, html, `rendered ${p}`)
    t.match(html, 'After', `the text around it stays: ${p}`)
    // Sanitizing stored HTML again catches the same things written straight into the row.
    assertSafe(t, sanitizeArticleHtml(p), `stored ${p}`)
  }
})

t.test('Markdown renders what articles need', async (t) => {
  const html = renderArticle('# Reset\n\nGo to **Settings** > *Security*.\n\n1. One\n2. Two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[Help](https://example.com/help) and `code`\n\n![diagram](/kb/files/3)')
  t.match(html, '<h1>Reset</h1>')
  t.match(html, '<strong>Settings</strong>')
  t.match(html, '<ol>')
  t.match(html, '<table>')
  t.match(html, '<a href="https://example.com/help" rel="noopener noreferrer nofollow">Help</a>')
  t.match(html, '<img src="/kb/files/3" alt="diagram" />')
  t.equal(renderArticle('![x](https://elsewhere.test/a.png)').trim(), '<p></p>', 'no picture from another site (the pages load none)')
  t.equal(renderArticle('![x](//elsewhere.test/a.png)').trim(), '<p></p>', 'nor protocol-relative')
  t.match(renderArticle('![x](/\\elsewhere.test/a.png)'), '<img src="/%5Celsewhere.test/a.png"', 'a backslash stays encoded: a path of this site')
  t.equal(sanitizeArticleHtml('<img src="/\\elsewhere.test/a.png"><img src="//elsewhere.test/b.png">'), '', 'stored HTML too')
  t.match(html, '<code>code</code>')
  t.equal(articleText(html).includes('Go to Settings > Security.'), true, 'plain text for search')
})

t.test('slugs, tags and excerpts', async (t) => {
  t.equal(slugify('Configuração da impressora — passo a passo!'), 'configuracao-da-impressora-passo-a-passo')
  t.equal(slugify('   '), 'article')
  t.equal(slugify('x'.repeat(200)).length, 80)
  t.same(normalizeTags(' Printer, VPN ,printer,,  Two  words '), ['printer', 'vpn', 'two words'])
  t.equal(excerpt('one two three four', 12), 'one two…')
  t.equal(excerpt('short', 12), 'short')
})

t.test('the difference between two versions, word by word', async (t) => {
  const parts = textDiff('Hold the button for 5 s.', 'Hold the power button for 10 s.')
  t.equal(parts.filter((p) => p.kind !== 'added').map((p) => p.text).join(''), 'Hold the button for 5 s.', 'the old text from its parts')
  t.equal(parts.filter((p) => p.kind !== 'removed').map((p) => p.text).join(''), 'Hold the power button for 10 s.', 'the new text from its parts')
  t.ok(parts.some((p) => p.kind === 'added' && p.text.includes('power')))
  t.ok(parts.some((p) => p.kind === 'removed' && p.text.includes('5')))
  t.same(textDiff('same', 'same'), [{ kind: 'same', text: 'same' }])
})

t.test('who may do what', async (t) => {
  const writer: KbActor = { staffId: 1, admin: false, manager: false }
  const manager: KbActor = { staffId: 2, admin: false, manager: true }
  const admin: KbActor = { staffId: 3, admin: true, manager: false }
  t.same(kbDecide('submit', 'draft', 1, writer), { ok: true, to: 'in_review' })
  t.same(kbDecide('publish', 'in_review', 1, writer), { ok: false, code: 'reviewer_only' })
  t.same(kbDecide('publish', 'in_review', 1, manager), { ok: true, to: 'published' })
  t.same(kbDecide('publish', 'in_review', 2, manager), { ok: false, code: 'own_article' }, 'a second pair of eyes')
  t.same(kbDecide('publish', 'in_review', 3, admin), { ok: true, to: 'published' }, 'admins may publish their own')
  t.same(kbDecide('edit', 'published', 1, writer), { ok: false, code: 'reviewer_only' })
  t.same(kbDecide('edit', 'published', 1, manager), { ok: true, to: 'published' })
  t.same(kbDecide('edit', 'archived', 1, admin), { ok: false, code: 'not_allowed_in_state' })
  t.same(kbDecide('restore', 'archived', 1, manager), { ok: true, to: 'draft' })
  t.same(kbDecide('send_back', 'in_review', 1, manager), { ok: true, to: 'draft' })
  t.same(kbDecide('archive', 'published', 1, writer), { ok: false, code: 'reviewer_only' })
})

t.test('audiences', async (t) => {
  const pub = { state: 'published' as const, audience: 'public' as const }
  const acc = { state: 'published' as const, audience: 'accounts' as const }
  const internal = { state: 'published' as const, audience: 'internal' as const }
  const draft = { state: 'draft' as const, audience: 'public' as const }
  const client = { kind: 'contact' as const, accountIds: [7] }
  t.ok(kbVisible(pub, [], client))
  t.ok(kbVisible(acc, [7], client))
  t.notOk(kbVisible(acc, [8], client), 'another account\'s article')
  t.notOk(kbVisible(internal, [], client))
  t.notOk(kbVisible(draft, [], client), 'never a draft')
  t.notOk(kbVisible(acc, [7], { kind: 'anonymous' }))
  t.ok(kbVisible(draft, [], { kind: 'staff' }))
  t.ok(kbVisible(acc, [8], { kind: 'contact', accountIds: [7, 8] }), 'a client of several accounts: any of them')
  t.same(kbReaderOf({ kind: 'contact', accountIds: [7, 8] }), { kind: 'contact', accountIds: [7, 8] })
  t.same(kbReaderOf({ kind: 'contact', accountIds: [] }), { kind: 'anonymous' }, 'a client of no account reads what anyone may')
  t.same(kbReaderOf({ kind: 'staff' }), { kind: 'staff' })
  t.same(kbReaderOf(null), { kind: 'anonymous' })
})

t.test('personal data is taken out of a ticket\'s words', async (t) => {
  const markers = { person: '[requester]', email: '[e-mail]', phone: '[phone]', account: '[company]' }
  const { text, found } = scrubPersonalData('Hi, I am Bob Stone from Acme Corporation (bob@acme.test, +55 11 98765-4321). Bob here again; Bobby is our printer.',
    { names: ['Bob Stone'], markers, account: 'Acme Corporation' })
  t.equal(text, 'Hi, I am [requester] from [company] ([e-mail], [phone]). [requester] here again; Bobby is our printer.')
  t.same(found.sort(), ['[company]', '[e-mail]', '[phone]', '[requester]'])
  t.same(scrubPersonalData('Printer error 0x80070005 since version 2.3.1', { names: ['Al'], markers }).found, [], 'error codes and versions are not phone numbers')
})

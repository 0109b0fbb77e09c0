/** A read-only HTML view of the emulator's Cases and their comments: what CRM users would see. */
import type { EmulatorStore, SfRecord } from './store.js'

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f4f6f9}
header{background:#0b5cab;color:#fff;padding:.7rem 1.2rem}header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:1rem 1.2rem;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{background:#eef1f5;font-weight:600}
.muted{color:#6b7280}.tag{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:12px;background:#e5e7eb}
.tag.pub{background:#d1fae5}.tag.int{background:#fde68a}
.comment{background:#fff;border:1px solid #e3e6ea;border-radius:4px;padding:.6rem .8rem;margin:.6rem 0}
.comment pre,.desc{white-space:pre-wrap;font:inherit;margin:.3rem 0 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;padding:.8rem;border:1px solid #e3e6ea}
dt{color:#6b7280}dd{margin:0}nav.pages{margin:.8rem 0}
header form{display:inline;float:right}header button{font:inherit;color:#fff;background:none;border:1px solid #cfe0f5;border-radius:3px;cursor:pointer}
form.login{background:#fff;border:1px solid #e3e6ea;padding:1rem;max-width:24rem}form.login label{display:block;margin:0 0 .7rem}
form.login input{display:block;width:100%;box-sizing:border-box;font:inherit;padding:.3rem;margin-top:.2rem}
.error{color:#b91c1c;font-weight:600}
`

/** `viewer`: the signed-in CRM user's name, shown with a sign-out button. */
function page(title: string, body: string, viewer?: string): string {
  const who = viewer
    ? `<form method="post" action="/logout"><span style="color:#cfe0f5">${escapeHtml(viewer)}</span> <button type="submit">Sign out</button></form>`
    : ''
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Salesforce emulator</title><style>${STYLE}</style></head>` +
    `<body><header><a href="/">Salesforce emulator</a> <span class="muted" style="color:#cfe0f5">· read-only view of Cases</span>${who}</header><main>${body}</main></body></html>`
}

function nameOf(store: EmulatorStore, id: unknown): string {
  if (typeof id !== 'string') return ''
  const rec = store.get(id)
  if (!rec) return id
  return String(rec.data.Name ?? rec.data.CaseNumber ?? id)
}

function when(v: unknown): string {
  return typeof v === 'string' ? v.replace('T', ' ').replace(/\.\d{3}\+0000$/, ' UTC') : ''
}

const PAGE_SIZE = 50

/** GET / : the newest Cases first. */
export function renderCaseList(store: EmulatorStore, pageNo: number, viewer: string): string {
  const all = store.list('Case').map((r) => r.data)
  all.sort((a, b) => String(b.LastModifiedDate).localeCompare(String(a.LastModifiedDate)))
  const pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE))
  const p = Math.min(Math.max(1, pageNo), pages)
  const rows = all.slice((p - 1) * PAGE_SIZE, p * PAGE_SIZE).map((c) => `<tr>
<td><a href="/cases/${escapeHtml(c.Id)}">${escapeHtml(c.CaseNumber)}</a></td>
<td>${escapeHtml(c.Subject)}</td>
<td>${escapeHtml(c.Status)}</td>
<td>${escapeHtml(c.Priority)}</td>
<td>${escapeHtml(nameOf(store, c.OwnerId))}</td>
<td>${escapeHtml(nameOf(store, c.AccountId))}</td>
<td>${escapeHtml(c.Portal_Ticket_Id__c)}</td>
<td class="muted">${escapeHtml(when(c.LastModifiedDate))}</td></tr>`).join('')
  const nav = pages > 1
    ? `<nav class="pages">${p > 1 ? `<a href="/?page=${p - 1}">← Newer</a> ` : ''}Page ${p} of ${pages}${p < pages ? ` <a href="/?page=${p + 1}">Older →</a>` : ''}</nav>`
    : ''
  const body = all.length === 0
    ? '<h1>Cases</h1><p class="muted">No Cases yet. Tickets synced from the portal appear here.</p>'
    : `<h1>Cases <span class="muted">(${all.length})</span></h1><table><thead><tr><th>Case Number</th><th>Subject</th><th>Status</th><th>Priority</th><th>Owner</th><th>Account</th><th>Portal ticket</th><th>Last modified</th></tr></thead><tbody>${rows}</tbody></table>${nav}`
  return page('Cases', body, viewer)
}

/** GET /cases/:id : one Case with its fields and comments, oldest comment first; null when unknown. */
export function renderCase(store: EmulatorStore, id: string, viewer: string): string | null {
  const rec = store.get(id)
  if (!rec || rec.type !== 'Case' || rec.isDeleted) return null
  const c = rec.data
  const comments = store.childrenOf('CaseComment', rec.id).map((r) => r.data)
  comments.sort((a, b) => String(a.CreatedDate).localeCompare(String(b.CreatedDate)))
  const field = (label: string, value: string) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`
  const fields = [
    field('Status', String(c.Status ?? '')),
    field('Priority', String(c.Priority ?? '')),
    field('Origin', String(c.Origin ?? '')),
    field('Owner', nameOf(store, c.OwnerId)),
    field('Account', nameOf(store, c.AccountId)),
    field('Contact', nameOf(store, c.ContactId)),
    field('Product', nameOf(store, c.ProductId)),
    field('Portal ticket', String(c.Portal_Ticket_Id__c ?? '')),
    field('Created', `${when(c.CreatedDate)} by ${nameOf(store, c.CreatedById)}`),
    field('Last modified', `${when(c.LastModifiedDate)} by ${nameOf(store, c.LastModifiedById)}`)
  ].join('')
  const commentHtml = comments.length === 0
    ? '<p class="muted">No comments.</p>'
    : comments.map((m: SfRecord) => `<div class="comment"><span class="tag ${m.IsPublished ? 'pub">Public' : 'int">Internal'}</span> ` +
      `<strong>${escapeHtml(nameOf(store, m.CreatedById))}</strong> <span class="muted">${escapeHtml(when(m.CreatedDate))}</span>` +
      `<pre>${escapeHtml(m.CommentBody)}</pre></div>`).join('')
  const body = `<p><a href="/">← All Cases</a></p><h1>Case ${escapeHtml(c.CaseNumber)}: ${escapeHtml(c.Subject)}</h1>` +
    `<dl>${fields}</dl><h2>Description</h2><div class="desc">${escapeHtml(c.Description) || '<span class="muted">None.</span>'}</div>` +
    `<h2>Comments <span class="muted">(${comments.length})</span></h2>${commentHtml}`
  return page(`Case ${String(c.CaseNumber)}`, body, viewer)
}

export function renderNotFound(): string {
  return page('Not found', '<p><a href="/">← All Cases</a></p><h1>Case not found</h1><p class="muted">It may have been deleted.</p>')
}

/** GET /login : a CRM user signs in to see the Cases; `hint` says where this emulator's passwords are. */
export function renderLogin(opts: { next: string; username?: string; hint?: string; error?: string }): string {
  const body = '<h1>Sign in</h1><p class="muted">The Case browser shows every Case: sign in as a CRM user of this emulator.</p>' +
    (opts.hint ? `<p class="muted">${escapeHtml(opts.hint)}</p>` : '') +
    (opts.error ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>` : '') +
    '<form class="login" method="post" action="/login">' +
    `<input type="hidden" name="next" value="${escapeHtml(opts.next)}">` +
    `<label>Username <input name="username" autocomplete="username" required value="${escapeHtml(opts.username ?? '')}"></label>` +
    '<label>Password <input type="password" name="password" autocomplete="current-password" required></label>' +
    '<button type="submit">Sign in</button></form>'
  return page('Sign in', body)
}

// The API's reference for people (docs/api.md), written from its OpenAPI document: every route,
// its method, summary, parameters, body fields and answers. test/api/openapi.test.ts checks the
// page against the document, so a route added or changed shows there or the suite fails.

interface Schema {
  type?: string | string[]
  format?: string
  enum?: unknown[]
  anyOf?: Schema[]
  oneOf?: Schema[]
  items?: Schema
  properties?: Record<string, Schema>
  required?: string[]
  description?: string
  default?: unknown
  minimum?: number
  maximum?: number
  maxLength?: number
}
interface Parameter { name: string; in: string; required?: boolean; description?: string; schema?: Schema }
interface Operation {
  summary?: string
  tags?: string[]
  security?: unknown[]
  parameters?: Parameter[]
  requestBody?: { content?: Record<string, { schema?: Schema }> }
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>
}
export interface OpenApiDocument {
  info: { title: string; version: string }
  tags?: { name: string; description?: string }[]
  paths: Record<string, Record<string, Operation>>
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

/** `|` and line breaks would break a table cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ')

/** A schema in a few words: `integer`, `string (date-time)`, `one of: a, b`, `array of object`, `string or null`. */
export function typeOf(s: Schema | undefined): string {
  if (!s) return 'any'
  const union = s.anyOf ?? s.oneOf
  if (union) return [...new Set(union.map(typeOf))].join(' or ')
  if (s.enum) return `one of: ${s.enum.map((v) => (v === null ? 'null' : String(v))).join(', ')}`
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
  if (types.length === 0) return 'any'
  return types.map((t) => {
    if (t === 'array') return `array of ${typeOf(s.items)}`
    if (t === 'string' && s.format) return `string (${s.format})`
    return t
  }).join(' or ')
}

/** Limits and defaults a caller needs to know. */
function constraints(s: Schema | undefined): string {
  if (!s) return ''
  const out: string[] = []
  if (s.minimum !== undefined) out.push(`min ${s.minimum}`)
  // Ids' upper bound (2^31 - 1) is the database's, not worth a reader's attention.
  if (s.maximum !== undefined && s.maximum !== 2 ** 31 - 1) out.push(`max ${s.maximum}`)
  if (s.maxLength !== undefined) out.push(`up to ${s.maxLength} characters`)
  if (s.default !== undefined) out.push(`default ${JSON.stringify(s.default)}`)
  return out.join(', ')
}

function describe(s: Schema | undefined, extra?: string): string {
  return cell([extra ?? s?.description, constraints(s)].filter(Boolean).join('; '))
}

/** The fields of an answer: an object's properties, an array's items', or each alternative's. */
function answerFields(s: Schema | undefined): string {
  if (!s) return ''
  const union = s.anyOf ?? s.oneOf
  if (union) return union.map(answerFields).filter(Boolean).join(' — or — ')
  if (s.items) return answerFields(s.items)
  return s.properties ? Object.keys(s.properties).map((k) => `\`${k}\``).join(', ') : ''
}

function operationMarkdown(method: string, path: string, op: Operation): string[] {
  const out = [`#### \`${method.toUpperCase()} ${path}\``, '']
  if (op.summary) out.push(op.summary, '')
  if (Array.isArray(op.security) && op.security.length === 0) out.push('No token needed.', '')
  const params = op.parameters ?? []
  if (params.length > 0) {
    out.push('| parameter | in | type | required | description |', '|---|---|---|---|---|')
    for (const p of params) out.push(`| \`${p.name}\` | ${p.in} | ${cell(typeOf(p.schema))} | ${p.required ? 'yes' : 'no'} | ${describe(p.schema, p.description)} |`)
    out.push('')
  }
  const body = op.requestBody?.content?.['application/json']?.schema
  if (body?.properties) {
    const required = new Set(body.required ?? [])
    out.push('| body field | type | required | description |', '|---|---|---|---|')
    for (const [name, s] of Object.entries(body.properties)) out.push(`| \`${name}\` | ${cell(typeOf(s))} | ${required.has(name) ? 'yes' : 'no'} | ${describe(s)} |`)
    out.push('')
  }
  const responses = Object.entries(op.responses ?? {})
  for (const [status, r] of responses.filter(([status]) => status.startsWith('2'))) {
    const fields = answerFields(r.content?.['application/json']?.schema)
    out.push(`**${status}** ${cell(r.description ?? '')}${fields ? `: ${fields}` : ''}`, '')
  }
  const errors = responses.map(([status]) => status).filter((status) => !status.startsWith('2'))
  if (errors.length > 0) out.push(`Errors: ${errors.join(', ')} (\`{ "error": { "code", "message", "fields"? } }\`)`, '')
  return out
}

/** The reference as Markdown: the operations grouped by tag, in the document's tag order. */
export function apiReferenceMarkdown(doc: OpenApiDocument): string {
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ method: m, path, op: item[m] })))
  const tags = [...(doc.tags ?? []), ...[...new Set(operations.flatMap((o) => o.op.tags ?? []))].map((name) => ({ name, description: undefined }))]
  const seen = new Set<string>()
  const out: string[] = []
  for (const tag of tags) {
    if (seen.has(tag.name)) continue
    seen.add(tag.name)
    const mine = operations.filter((o) => (o.op.tags ?? [])[0] === tag.name)
    if (mine.length === 0) continue
    out.push(`### ${tag.name}`, '')
    if (tag.description) out.push(tag.description, '')
    for (const o of mine) out.push(...operationMarkdown(o.method, o.path, o.op))
  }
  return `${out.join('\n').trimEnd()}\n`
}

import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { Validator } from '@seriousme/openapi-schema-validator'
import { apiToken, testApp } from '../helpers/app.js'
import { ROOT } from '../helpers/root.js'
import { apiReferenceMarkdown, type OpenApiDocument } from '../../src/routes/api/v1/api-reference.js'

type Json = any

/**
 * Every route the app answers, as `METHOD /path` (HEAD left out), read from Fastify's own route
 * tree: each line is a path piece under its parent's, indented four characters a level.
 */
function registeredRoutes(app: FastifyInstance): string[] {
  const out: string[] = []
  const stack: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)[└├]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (!m) continue
    const depth = m[1].length / 4
    stack.length = depth
    const path = (stack[depth - 1] ?? '') + m[2]
    stack[depth] = path
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) out.push(`${method} ${path}`)
  }
  return out
}

/** The document's operations in the same form (`{id}` back to `:id`). */
function documentedRoutes(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k)).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
}

t.test('GET /api/v1/openapi.json: a valid OpenAPI document of every /api/v1 route, without a token', async (t) => {
  const { app, db } = await testApp(t)
  const res = await app.inject({ url: '/api/v1/openapi.json' })
  t.equal(res.statusCode, 200, 'public: no token needed')
  t.match(res.headers['content-type'], /^application\/json/)
  const doc = res.json() as Json

  const result = await new Validator().validate(doc)
  t.same(result.errors, undefined, 'no validation errors')
  t.ok(result.valid, 'valid OpenAPI')
  t.equal(doc.openapi, '3.1.0')
  t.equal(doc.info.title, 'Casebridge API')

  const registered = registeredRoutes(app)
  t.ok(registered.includes('GET /api/v1/tickets') && registered.includes('GET /healthz'), 'the route list is read (sanity check of the parser)')
  const api = registered.filter((r) => r.split(' ')[1].startsWith('/api/v1/')).sort()
  t.ok(api.length >= 30, `${api.length} API routes`)
  t.same(documentedRoutes(doc).sort(), api, 'every /api/v1 route is documented, and nothing else')

  t.same(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: String(doc.components.securitySchemes.bearerAuth.description) })
  t.same(doc.security, [{ bearerAuth: [] }], 'a token by default')
  t.same(doc.paths['/api/v1/openapi.json'].get.security, [], 'but not for the document itself')

  const tagNames = doc.tags.map((tag: Json) => tag.name)
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
    for (const [method, op] of Object.entries(item)) {
      t.ok(op.summary, `${method} ${path} has a summary`)
      t.ok(op.tags?.length === 1 && tagNames.includes(op.tags[0]), `${method} ${path} is in one of the document's groups`)
      const success = Object.keys(op.responses).filter((s) => s.startsWith('2'))
      t.ok(success.length > 0 && op.responses[401] && op.responses[400], `${method} ${path} declares its answers`)
    }
  }
  t.same(doc.paths['/api/v1/tickets'].get.tags, ['tickets'])
  t.same(doc.paths['/api/v1/accounts'].get.tags, ['reference'])
  t.same(doc.paths['/api/v1/admin/desks'].get.tags, ['administration'])

  const list = doc.paths['/api/v1/tickets'].get
  t.match(list.parameters.find((p: Json) => p.name === 'perPage'), { in: 'query', required: false, schema: { type: 'integer', default: 20, maximum: 100 } }, 'a parameter with a default is optional')
  const one = doc.paths['/api/v1/tickets/{id}'].get
  t.match(one.parameters, [{ name: 'id', in: 'path', required: true }])
  const ticket = one.responses[200].content['application/json'].schema
  t.ok(['resolution', 'closureCategory', 'closureNote', 'notes'].every((k) => k in ticket.properties), 'the ticket answer names its fields')
  t.ok(['occurrenceCategory', 'occurrenceOrigin'].every((k) => k in ticket.properties.notes.items.properties))
  t.match(doc.paths['/api/v1/tickets'].post.requestBody.content['application/json'].schema, { required: ['title', 'description'], additionalProperties: false })
  t.match(doc.paths['/api/v1/tickets'].post.responses, { 201: { description: 'Created' }, 422: { description: /invalid/ } })

  // The document is the same for anyone: a token changes nothing, a bad one is not even looked at.
  const withToken = await app.inject({ url: '/api/v1/openapi.json', headers: { authorization: `Bearer ${await apiToken(db, 'admin@casebridge.test')}` } })
  t.equal(withToken.statusCode, 200)
  t.equal((await app.inject({ url: '/api/v1/openapi.json', headers: { authorization: 'Bearer cb_notARealToken' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/api/v1/tickets' })).statusCode, 401, 'everything else still asks for a token')
  t.equal((await app.inject({ url: '/api/v1/openapi.json?x=1' })).statusCode, 200, 'a query string is ignored')
})

// docs/api.md is written from the document: UPDATE_API_DOC=1 npx tap test/api/openapi.test.ts
t.test('docs/api.md lists every route as the document describes it', async (t) => {
  const { app } = await testApp(t, { demo: false })
  const doc = (await app.inject({ url: '/api/v1/openapi.json' })).json() as OpenApiDocument
  const file = join(ROOT, 'docs/api.md')
  const BEGIN = '<!-- reference: written from GET /api/v1/openapi.json by test/api/openapi.test.ts -->'
  const END = '<!-- /reference -->'
  const page = readFileSync(file, 'utf8')
  const start = page.indexOf(BEGIN)
  const end = page.indexOf(END)
  t.ok(start >= 0 && end > start, 'docs/api.md has its reference markers')
  const written = `${BEGIN}\n\n${apiReferenceMarkdown(doc)}\n${END}`
  if (process.env.UPDATE_API_DOC === '1') writeFileSync(file, page.slice(0, start) + written + page.slice(end + END.length))
  const current = readFileSync(file, 'utf8')
  t.equal(current.slice(current.indexOf(BEGIN), current.indexOf(END) + END.length), written,
    'docs/api.md matches the routes (after a change: UPDATE_API_DOC=1 npx tap test/api/openapi.test.ts)')
  for (const route of documentedRoutes(doc)) {
    const [method, path] = route.split(' ')
    t.ok(current.includes(`#### \`${method} ${path.replace(/:(\w+)/g, '{$1}')}\``), `${route} has its section`)
  }
})

// The code keeps the shape docs/architecture.md draws: every import between parts is an arrow the
// page allows, channels never import a repository function that writes, and no SQL is built
// outside src/db. The rules are read from the page itself, so the page and the code cannot drift.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { dirname, join, normalize } from 'node:path'
import ts from 'typescript'
import { ROOT } from './helpers/root.js'

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8')

interface Part {
  name: string
  /** Path prefixes (a folder ends with '/'), or whole file names. */
  paths: string[]
  mayImport: Set<string>
  /** Channels: they change business data only through commands. */
  channel: boolean
}

/** The table between `<!-- parts -->` and `<!-- /parts -->` in docs/architecture.md. */
export function partsFromDoc(doc: string): Part[] {
  const block = /<!-- parts -->([\s\S]*?)<!-- \/parts -->/.exec(doc)?.[1]
  if (!block) throw new Error('docs/architecture.md has no <!-- parts --> table')
  const rows = block.split('\n').filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l)).slice(1)
  return rows.map((row) => {
    const [name, paths, mayImport, channel] = row.split('|').slice(1, -1).map((c) => c.trim())
    const list = (cell: string) => cell.split(',').map((s) => s.replace(/`/g, '').trim()).filter((s) => s && s !== '—')
    return { name, paths: list(paths), mayImport: new Set(list(mayImport)), channel: channel === 'yes' }
  })
}

function sourceFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src', 'sync', 'bin'], { cwd: ROOT, encoding: 'utf8' })
  return out.split('\n').filter((f) => /\.(ts|js)$/.test(f) && !f.startsWith('src/db/migrations/'))
}

function partOf(parts: Part[], file: string): Part | undefined {
  let best: { part: Part; length: number } | undefined
  for (const part of parts) {
    for (const p of part.paths) {
      const hit = p.endsWith('/') ? file.startsWith(p) : file === p
      if (hit && (!best || p.length > best.length)) best = { part, length: p.length }
    }
  }
  return best?.part
}

interface Import {
  from: string
  to: string
  names: string[]
  typeOnly: boolean
}

/** Every relative import and re-export of a file (dynamic imports too), with the names it takes. */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.ES2022, true)
  const out: Import[] = []
  const add = (spec: string, names: string[], typeOnly: boolean) => {
    if (!spec.startsWith('.')) return
    out.push({ from: file, to: normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'), names, typeOnly })
  }
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause
      const names: string[] = []
      let typeOnly = Boolean(clause?.isTypeOnly)
      if (clause?.namedBindings && ts.isNamedImports(clause.namedBindings)) {
        const elements = clause.namedBindings.elements
        for (const e of elements) if (!e.isTypeOnly) names.push((e.propertyName ?? e.name).text)
        if (elements.length > 0 && elements.every((e) => e.isTypeOnly)) typeOnly = true
      } else if (clause?.namedBindings) {
        names.push('*')
      }
      if (clause?.name) names.push('default')
      add(node.moduleSpecifier.text, names, typeOnly)
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const names = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements.map((e) => (e.propertyName ?? e.name).text) : ['*']
      add(node.moduleSpecifier.text, names, node.isTypeOnly)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      add(node.arguments[0].text, ['*'], false)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

const WRITES = /\.(insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(|sql`\s*(INSERT|UPDATE|DELETE)\b/

/**
 * The exported functions of src/db that write rows: those that build an INSERT, UPDATE or DELETE,
 * and those that call one that does (followed through the repositories until nothing changes).
 */
export function repositoryWriters(files: string[]): Map<string, Set<string>> {
  const bodies = new Map<string, Map<string, string>>()
  const imports = new Map<string, Map<string, string>>()
  for (const file of files.filter((f) => f.startsWith('src/db/') && f.endsWith('.ts'))) {
    const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.ES2022, true)
    const fns = new Map<string, string>()
    for (const st of source.statements) {
      if (ts.isFunctionDeclaration(st) && st.name) fns.set(st.name.text, st.getText())
      if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name) && d.initializer) fns.set(d.name.text, d.initializer.getText())
    }
    bodies.set(file, fns)
    const taken = new Map<string, string>()
    for (const imp of importsOf(file)) for (const n of imp.names) taken.set(n, imp.to)
    imports.set(file, taken)
  }
  const writers = new Map<string, Set<string>>([...bodies.keys()].map((f) => [f, new Set<string>()]))
  for (let changed = true; changed;) {
    changed = false
    for (const [file, fns] of bodies) {
      for (const [name, body] of fns) {
        if (writers.get(file)!.has(name)) continue
        const callsWriter = [...fns.keys()].some((other) => other !== name && writers.get(file)!.has(other) && new RegExp(`\\b${other}\\(`).test(body)) ||
          [...imports.get(file)!].some(([imported, to]) => writers.get(to)?.has(imported) && new RegExp(`\\b${imported}\\(`).test(body))
        if (WRITES.test(body) || callsWriter) {
          writers.get(file)!.add(name)
          changed = true
        }
      }
    }
  }
  return writers
}

const files = sourceFiles()
const parts = partsFromDoc(read('docs/architecture.md'))

t.test('docs/architecture.md names a part for every source file', async (t) => {
  const homeless = files.filter((f) => !partOf(parts, f))
  t.same(homeless, [], 'files on no part of the picture')
  t.ok(parts.length >= 10, `${parts.length} parts`)
})

t.test('every import between parts is an arrow the picture allows', async (t) => {
  const wrong: string[] = []
  for (const file of files) {
    const from = partOf(parts, file)
    if (!from) continue
    for (const imp of importsOf(file)) {
      const to = partOf(parts, imp.to)
      if (!to || to === from) continue
      if (!from.mayImport.has(to.name)) wrong.push(`${file} -> ${imp.to} (${from.name} -> ${to.name})`)
    }
  }
  t.same(wrong, [], 'imports the picture forbids')
})

t.test('channels never import a repository function that writes: they call commands', async (t) => {
  const writers = repositoryWriters(files)
  t.ok(writers.get('src/db/ticket-write.ts')?.has('updateTicket'), 'the detector sees a plain writer')
  t.ok(writers.get('src/db/crm-reference.ts')?.has('upsertCrmAccount'), 'and one that writes through a branch')
  t.notOk(writers.get('src/db/ticket-search.ts')?.has('listTickets'), 'and leaves readers alone')
  const wrong: string[] = []
  for (const file of files) {
    if (!partOf(parts, file)?.channel) continue
    for (const imp of importsOf(file)) {
      const written = writers.get(imp.to)
      if (!written || imp.typeOnly) continue
      for (const name of imp.names) if (name === '*' || written.has(name)) wrong.push(`${file} imports ${name} from ${imp.to}`)
    }
  }
  t.same(wrong, [], 'repository writes reached from a channel')
})

t.test('no SQL is built outside src/db', async (t) => {
  const SQL = /\.(selectFrom|insertInto|updateTable|deleteFrom)\(|\bsql`/
  const outside = files.filter((f) => !f.startsWith('src/db/') && !f.startsWith('sync/emulator/') && SQL.test(read(f)))
  t.same(outside, [], 'files that build queries themselves')
})

/**
 * A SOQL subset: SELECT fields (relationship paths, COUNT(), COUNT(field), FIELDS()), FROM, WHERE with
 * AND/OR/NOT/parentheses, comparison operators, IN/NOT IN, LIKE, NULL, string/number/boolean/date/datetime
 * literals and date literals (TODAY, LAST_N_DAYS:n...), ORDER BY ... ASC|DESC NULLS FIRST|LAST, LIMIT, OFFSET.
 * Errors carry Salesforce's codes and messages (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE...).
 */
import { SfError } from './errors.js'
import { normalizeId } from './ids.js'
import { isTextType, type FieldDef, type ObjectDef, type Schema } from './schema.js'
import { parseSfDateTime, type SfRecord, type StoredRecord } from './store.js'

// ---------------------------------------------------------------- tokens

type TokKind = 'ident' | 'string' | 'number' | 'datetime' | 'date' | 'op' | 'punct' | 'eof'
interface Token {
  kind: TokKind
  text: string
  value?: string
  pos: number
}

const INVALID_FIELD_HINT = "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."

/** Salesforce frames query errors with the offending line, a caret and the row/column. */
function framed(soql: string, pos: number, message: string): string {
  const before = soql.slice(0, pos)
  const row = before.split('\n').length
  const lineStart = before.lastIndexOf('\n') + 1
  const lineEnd = soql.indexOf('\n', pos) === -1 ? soql.length : soql.indexOf('\n', pos)
  const col = pos - lineStart + 1
  return `\n${soql.slice(lineStart, lineEnd)}\n${' '.repeat(col - 1)}^\nERROR at Row:${row}:Column:${col}\n${message}`
}

function malformed(soql: string, pos: number, message: string): SfError {
  return new SfError(400, 'MALFORMED_QUERY', framed(soql, pos, message))
}

function tokenize(soql: string): Token[] {
  const out: Token[] = []
  let i = 0
  const rest = () => soql.slice(i)
  while (i < soql.length) {
    const c = soql[i]
    if (/\s/.test(c)) { i++; continue }
    const start = i
    if (c === "'") {
      let v = ''
      i++
      for (;;) {
        if (i >= soql.length) throw malformed(soql, start, `line 1:${start} mismatched character '<EOF>' expecting '''`)
        const ch = soql[i]
        if (ch === '\\') {
          const n = soql[i + 1]
          const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' }
          // \% and \_ stay escaped: they only mean something to LIKE
          if (n === '%' || n === '_') v += '\\' + n
          else if (n in map) v += map[n]
          else throw malformed(soql, i, `Invalid string literal '${soql.slice(start, i + 2)}'. Illegal character sequence '\\${n}' in string literal.`)
          i += 2
          continue
        }
        if (ch === "'") { i++; break }
        v += ch
        i++
      }
      out.push({ kind: 'string', text: soql.slice(start, i), value: v, pos: start })
      continue
    }
    let m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})/.exec(rest())
    if (m) { out.push({ kind: 'datetime', text: m[0], pos: start }); i += m[0].length; continue }
    m = /^\d{4}-\d{2}-\d{2}(?![\d:T])/.exec(rest())
    if (m) { out.push({ kind: 'date', text: m[0], pos: start }); i += m[0].length; continue }
    m = /^[+-]?\d+(?:\.\d+)?(?![A-Za-z_])/.exec(rest())
    if (m) { out.push({ kind: 'number', text: m[0], pos: start }); i += m[0].length; continue }
    m = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(rest())
    if (m) { out.push({ kind: 'ident', text: m[0], pos: start }); i += m[0].length; continue }
    m = /^(?:!=|<>|<=|>=|=|<|>)/.exec(rest())
    if (m) { out.push({ kind: 'op', text: m[0], pos: start }); i += m[0].length; continue }
    if ('(),:'.includes(c)) { out.push({ kind: 'punct', text: c, pos: start }); i++; continue }
    throw malformed(soql, start, `unexpected token: '${c}'`)
  }
  out.push({ kind: 'eof', text: '<EOF>', pos: soql.length })
  return out
}

// ---------------------------------------------------------------- AST

export interface FieldPath {
  /** reference fields walked, in order (Owner.Name -> [OwnerId]) */
  hops: FieldDef[]
  field: FieldDef
  /** canonical names for the output (['Owner', 'Name']) */
  names: string[]
}

type Literal =
  | { kind: 'null' }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'datetime'; ms: number }
  | { kind: 'date'; value: string }
  | { kind: 'range'; start: number; end: number }

type Cond =
  | { kind: 'and' | 'or'; items: Cond[] }
  | { kind: 'not'; item: Cond }
  | { kind: 'cmp'; path: FieldPath; op: string; value: Literal }
  | { kind: 'in'; path: FieldPath; not: boolean; values: Literal[] }
  | { kind: 'like'; path: FieldPath; re: RegExp }

type SelectItem =
  | { kind: 'field'; path: FieldPath }
  | { kind: 'count'; path: FieldPath | null; alias: string }

export interface Query {
  object: ObjectDef
  items: SelectItem[]
  /** SELECT COUNT() */
  countOnly: boolean
  aggregate: boolean
  where: Cond | null
  orderBy: Array<{ path: FieldPath; desc: boolean; nullsLast: boolean }>
  limit: number | null
  offset: number
}

// ---------------------------------------------------------------- parser

const RESERVED = new Set(['AND', 'ASC', 'DESC', 'EXCLUDES', 'FIRST', 'FROM', 'GROUP', 'HAVING', 'IN', 'INCLUDES', 'LAST', 'LIKE', 'LIMIT', 'NOT', 'NULL', 'NULLS', 'OR', 'SELECT', 'WHERE', 'WITH', 'OFFSET', 'ORDER', 'BY', 'TRUE', 'FALSE'])

const DATE_LITERALS = new Set(['TODAY', 'YESTERDAY', 'TOMORROW', 'LAST_WEEK', 'THIS_WEEK', 'NEXT_WEEK', 'LAST_MONTH', 'THIS_MONTH', 'NEXT_MONTH', 'LAST_N_DAYS', 'NEXT_N_DAYS', 'N_DAYS_AGO', 'LAST_N_HOURS', 'NEXT_N_HOURS'])

class Parser {
  private i = 0
  private readonly toks: Token[]
  private object!: ObjectDef

  constructor(private readonly soql: string, private readonly schema: Schema, private readonly now: Date) {
    this.toks = tokenize(soql)
  }

  private peek(): Token { return this.toks[this.i] }
  private next(): Token { return this.toks[this.i++] }
  private isKw(word: string, t = this.peek()): boolean { return t.kind === 'ident' && t.text.toUpperCase() === word }
  private unexpected(t = this.peek()): SfError { return malformed(this.soql, t.pos, `unexpected token: ${t.kind === 'eof' ? '<EOF>' : `'${t.text}'`}`) }
  private expectKw(word: string): Token {
    const t = this.next()
    if (!this.isKw(word, t)) throw this.unexpected(t)
    return t
  }
  private expectPunct(p: string): Token {
    const t = this.next()
    if (t.kind !== 'punct' || t.text !== p) throw this.unexpected(t)
    return t
  }

  parse(): Query {
    this.expectKw('SELECT')
    const selectStart = this.i
    // FROM comes after the field list: find it first so fields can be checked against the object
    let depth = 0
    let j = this.i
    for (; j < this.toks.length; j++) {
      const t = this.toks[j]
      if (t.kind === 'punct' && t.text === '(') depth++
      if (t.kind === 'punct' && t.text === ')') depth--
      if (depth === 0 && this.isKw('FROM', t)) break
      if (t.kind === 'eof') throw malformed(this.soql, t.pos, 'unexpected token: <EOF>')
    }
    const typeTok = this.toks[j + 1]
    if (!typeTok || typeTok.kind !== 'ident') throw this.unexpected(typeTok ?? this.toks[this.toks.length - 1])
    const obj = this.schema.get(typeTok.text.toLowerCase())
    if (!obj) {
      throw new SfError(400, 'INVALID_TYPE', framed(this.soql, typeTok.pos, `sObject type '${typeTok.text}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`))
    }
    this.object = obj
    this.i = selectStart
    const { items, countOnly, fieldsFn } = this.parseSelectList()
    this.expectKw('FROM')
    this.next()
    let where: Cond | null = null
    const orderBy: Query['orderBy'] = []
    let limit: number | null = null
    let offset = 0
    if (this.isKw('WHERE')) {
      this.next()
      where = this.parseCondition()
    }
    if (this.isKw('ORDER')) {
      this.next()
      this.expectKw('BY')
      for (;;) {
        const t = this.next()
        if (t.kind !== 'ident' || RESERVED.has(t.text.toUpperCase())) throw this.unexpected(t)
        const path = this.resolvePath(t)
        if (!path.field.sortable) throw new SfError(400, 'INVALID_FIELD', framed(this.soql, t.pos, `field '${path.field.name}' can not be sorted in a query call`))
        let desc = false
        if (this.isKw('ASC')) this.next()
        else if (this.isKw('DESC')) { this.next(); desc = true }
        let nullsLast = desc
        if (this.isKw('NULLS')) {
          this.next()
          if (this.isKw('FIRST')) nullsLast = false
          else if (this.isKw('LAST')) nullsLast = true
          else throw this.unexpected()
          this.next()
        }
        orderBy.push({ path, desc, nullsLast })
        if (this.peek().kind === 'punct' && this.peek().text === ',') { this.next(); continue }
        break
      }
    }
    if (this.isKw('LIMIT')) {
      this.next()
      const t = this.next()
      if (t.kind !== 'number' || !/^\d+$/.test(t.text)) throw this.unexpected(t)
      limit = Number(t.text)
    }
    if (this.isKw('OFFSET')) {
      this.next()
      const t = this.next()
      if (t.kind !== 'number' || !/^\d+$/.test(t.text)) throw this.unexpected(t)
      offset = Number(t.text)
      if (offset > 2000) throw new SfError(400, 'NUMBER_OUTSIDE_VALID_RANGE', `Maximum SOQL offset allowed is 2000`)
    }
    if (this.peek().kind !== 'eof') throw this.unexpected()
    if (fieldsFn && fieldsFn !== 'STANDARD' && (limit === null || limit > 200)) {
      throw malformed(this.soql, 0, 'The SOQL FIELDS function must have a LIMIT of at most 200')
    }
    const aggregate = items.some((it) => it.kind === 'count')
    if (aggregate) {
      const plain = items.find((it) => it.kind === 'field')
      if (plain && plain.kind === 'field') throw malformed(this.soql, 0, `Field must be grouped or aggregated: ${plain.path.field.name}`)
    }
    return { object: obj, items, countOnly, aggregate, where, orderBy, limit, offset }
  }

  private parseSelectList(): { items: SelectItem[]; countOnly: boolean; fieldsFn: string | null } {
    const items: SelectItem[] = []
    let countOnly = false
    let fieldsFn: string | null = null
    let exprN = 0
    for (;;) {
      const t = this.next()
      if (t.kind !== 'ident' || RESERVED.has(t.text.toUpperCase())) throw this.unexpected(t)
      const upper = t.text.toUpperCase()
      if (upper === 'COUNT' && this.peek().kind === 'punct' && this.peek().text === '(') {
        this.next()
        if (this.peek().kind === 'punct' && this.peek().text === ')') {
          this.next()
          countOnly = true
        } else {
          const ft = this.next()
          if (ft.kind !== 'ident') throw this.unexpected(ft)
          const path = this.resolvePath(ft)
          this.expectPunct(')')
          let alias = `expr${exprN++}`
          if (this.peek().kind === 'ident' && !RESERVED.has(this.peek().text.toUpperCase())) alias = this.next().text
          items.push({ kind: 'count', path, alias })
        }
      } else if (upper === 'FIELDS' && this.peek().kind === 'punct' && this.peek().text === '(') {
        this.next()
        const which = this.next()
        const w = which.text.toUpperCase()
        if (!['ALL', 'STANDARD', 'CUSTOM'].includes(w)) throw this.unexpected(which)
        this.expectPunct(')')
        fieldsFn = w
        for (const f of this.object.fields) {
          if ((w === 'STANDARD' && f.custom) || (w === 'CUSTOM' && !f.custom)) continue
          items.push({ kind: 'field', path: { hops: [], field: f, names: [f.name] } })
        }
      } else {
        items.push({ kind: 'field', path: this.resolvePath(t) })
      }
      if (this.peek().kind === 'punct' && this.peek().text === ',') { this.next(); continue }
      break
    }
    if (countOnly && items.length > 0) throw malformed(this.soql, 0, 'COUNT() must be the only element in the SELECT list.')
    return { items, countOnly, fieldsFn }
  }

  /** Resolves `Field` or `Rel.Rel.Field` against the FROM object, failing like Salesforce does. */
  private resolvePath(t: Token): FieldPath {
    const parts = t.text.split('.')
    let obj = this.object
    const hops: FieldDef[] = []
    const names: string[] = []
    let offset = 0
    // a leading object name is allowed: SELECT Case.Subject FROM Case
    if (parts.length > 1 && parts[0].toLowerCase() === obj.name.toLowerCase() && !obj.relationships.has(parts[0].toLowerCase())) {
      offset = parts[0].length + 1
      parts.shift()
    }
    for (let k = 0; k < parts.length - 1; k++) {
      const rel = obj.relationships.get(parts[k].toLowerCase())
      if (!rel) {
        throw new SfError(400, 'INVALID_FIELD', framed(this.soql, t.pos + offset, `Didn't understand relationship '${parts[k]}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`))
      }
      hops.push(rel)
      names.push(rel.relationshipName!)
      offset += parts[k].length + 1
      obj = this.schema.get(rel.referenceTo![0].toLowerCase())!
    }
    const last = parts[parts.length - 1]
    const f = obj.byName.get(last.toLowerCase())
    if (!f) {
      throw new SfError(400, 'INVALID_FIELD', framed(this.soql, t.pos, `No such column '${last}' on entity '${obj.name}'. ${INVALID_FIELD_HINT}`))
    }
    names.push(f.name)
    return { hops, field: f, names }
  }

  // condition := term ((AND|OR) term)* -- Salesforce refuses mixing AND and OR without parentheses
  private parseCondition(): Cond {
    const first = this.parseUnary()
    let joiner: 'and' | 'or' | null = null
    const items = [first]
    for (;;) {
      const t = this.peek()
      const word = this.isKw('AND') ? 'and' : this.isKw('OR') ? 'or' : null
      if (!word) break
      if (joiner && joiner !== word) throw this.unexpected(t)
      joiner = word
      this.next()
      items.push(this.parseUnary())
    }
    return joiner ? { kind: joiner, items } : first
  }

  private parseUnary(): Cond {
    if (this.isKw('NOT')) {
      this.next()
      return { kind: 'not', item: this.parseUnary() }
    }
    if (this.peek().kind === 'punct' && this.peek().text === '(') {
      this.next()
      const inner = this.parseCondition()
      this.expectPunct(')')
      return inner
    }
    return this.parseComparison()
  }

  private parseComparison(): Cond {
    const ft = this.next()
    if (ft.kind !== 'ident' || RESERVED.has(ft.text.toUpperCase())) throw this.unexpected(ft)
    const path = this.resolvePath(ft)
    if (!path.field.filterable) throw new SfError(400, 'INVALID_FIELD', framed(this.soql, ft.pos, `field '${path.field.name}' can not be filtered in a query call`))
    const opTok = this.peek()
    if (this.isKw('NOT') || this.isKw('IN')) {
      let not = false
      if (this.isKw('NOT')) { this.next(); not = true }
      this.expectKw('IN')
      this.expectPunct('(')
      const values: Literal[] = []
      if (this.isKw('SELECT')) throw malformed(this.soql, this.peek().pos, 'semi-join sub-selects are not supported by the emulator')
      for (;;) {
        values.push(this.parseLiteral(path))
        if (this.peek().kind === 'punct' && this.peek().text === ',') { this.next(); continue }
        break
      }
      this.expectPunct(')')
      return { kind: 'in', path, not, values }
    }
    if (this.isKw('LIKE')) {
      this.next()
      const lt = this.next()
      if (lt.kind !== 'string') throw this.unexpected(lt)
      if (!isTextType(path.field.type)) throw new SfError(400, 'INVALID_FIELD', framed(this.soql, opTok.pos, `invalid operator on ${path.field.type} field`))
      return { kind: 'like', path, re: likeToRegExp(lt.value!) }
    }
    if (opTok.kind !== 'op') throw this.unexpected(opTok)
    this.next()
    const op = opTok.text === '<>' ? '!=' : opTok.text
    const value = this.parseLiteral(path)
    if (value.kind === 'null' && op !== '=' && op !== '!=') throw this.unexpected(this.toks[this.i - 1])
    return { kind: 'cmp', path, op, value }
  }

  private parseLiteral(path: FieldPath): Literal {
    const t = this.next()
    const f = path.field
    const typeName = f.type === 'datetime' ? 'dateTime' : f.type === 'int' ? 'integer' : f.type === 'double' || f.type === 'currency' ? 'double' : f.type
    const wrongType = (quoted: boolean) => new SfError(400, 'INVALID_FIELD', framed(this.soql, t.pos,
      `value of filter criterion for field '${f.name}' must be of type ${typeName} and should ${quoted ? 'not ' : ''}be enclosed in quotes`))
    if (this.isKw('NULL', t)) return { kind: 'null' }
    if (t.kind === 'string') {
      const v = t.value!
      if (f.type === 'id' || f.type === 'reference') {
        if (v === '') return { kind: 'null' }
        const id = normalizeId(v)
        if (!id) throw new SfError(400, 'INVALID_QUERY_FILTER_OPERATOR', framed(this.soql, t.pos, `invalid ID field: ${v}`))
        return { kind: 'string', value: id }
      }
      if (isTextType(f.type)) return { kind: 'string', value: v.replace(/\\([%_])/g, '$1') }
      throw wrongType(true)
    }
    if (t.kind === 'number') {
      if (f.type === 'int' || f.type === 'double' || f.type === 'currency') return { kind: 'number', value: Number(t.text) }
      throw wrongType(false)
    }
    if (this.isKw('TRUE', t) || this.isKw('FALSE', t)) {
      if (f.type === 'boolean') return { kind: 'boolean', value: t.text.toUpperCase() === 'TRUE' }
      throw wrongType(false)
    }
    if (t.kind === 'datetime') {
      if (f.type !== 'datetime') throw wrongType(false)
      const d = parseSfDateTime(t.text)
      if (!d) throw malformed(this.soql, t.pos, `line 1:${t.pos} no viable alternative at character '${t.text}'`)
      return { kind: 'datetime', ms: d.getTime() }
    }
    if (t.kind === 'date') {
      if (f.type !== 'date') throw wrongType(false)
      return { kind: 'date', value: t.text }
    }
    if (t.kind === 'ident' && DATE_LITERALS.has(t.text.toUpperCase())) {
      if (f.type !== 'datetime' && f.type !== 'date') throw wrongType(false)
      let n = 1
      if (t.text.toUpperCase().includes('_N_')) {
        this.expectPunct(':')
        const nt = this.next()
        if (nt.kind !== 'number') throw this.unexpected(nt)
        n = Number(nt.text)
      }
      return dateRange(t.text.toUpperCase(), n, this.now)
    }
    throw this.unexpected(t)
  }
}

function likeToRegExp(pattern: string): RegExp {
  let re = ''
  for (let k = 0; k < pattern.length; k++) {
    const c = pattern[k]
    if (c === '\\' && (pattern[k + 1] === '%' || pattern[k + 1] === '_')) { re += '\\' + pattern[k + 1]; k++; continue }
    if (c === '%') re += '[\\s\\S]*'
    else if (c === '_') re += '[\\s\\S]'
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`, 'i')
}

const DAY = 86_400_000

/** Date literals as [start, end) ranges in UTC (the emulator's users all live in GMT). */
function dateRange(word: string, n: number, now: Date): Literal {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
  const weekStart = today - now.getUTCDay() * DAY
  const month = (delta: number) => [Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + delta, 1), Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + delta + 1, 1)]
  const hour = Math.floor(now.getTime() / 3_600_000) * 3_600_000
  const r = (start: number, end: number): Literal => ({ kind: 'range', start, end })
  switch (word) {
    case 'TODAY': return r(today, today + DAY)
    case 'YESTERDAY': return r(today - DAY, today)
    case 'TOMORROW': return r(today + DAY, today + 2 * DAY)
    case 'THIS_WEEK': return r(weekStart, weekStart + 7 * DAY)
    case 'LAST_WEEK': return r(weekStart - 7 * DAY, weekStart)
    case 'NEXT_WEEK': return r(weekStart + 7 * DAY, weekStart + 14 * DAY)
    case 'THIS_MONTH': { const [a, b] = month(0); return r(a, b) }
    case 'LAST_MONTH': { const [a, b] = month(-1); return r(a, b) }
    case 'NEXT_MONTH': { const [a, b] = month(1); return r(a, b) }
    // Salesforce's LAST_N_DAYS:n covers today and the n days before it
    case 'LAST_N_DAYS': return r(today - n * DAY, today + DAY)
    case 'NEXT_N_DAYS': return r(today, today + (n + 1) * DAY)
    case 'N_DAYS_AGO': return r(today - n * DAY, today - (n - 1) * DAY)
    case 'LAST_N_HOURS': return r(hour - n * 3_600_000, hour + 3_600_000)
    case 'NEXT_N_HOURS': return r(hour, hour + (n + 1) * 3_600_000)
    default: return r(today, today + DAY)
  }
}

/** Parses and checks a SOQL statement against the schema. */
export function parseSoql(soql: string, schema: Schema, now: Date): Query {
  if (!soql.trim()) throw new SfError(400, 'MALFORMED_QUERY', 'unexpected token: <EOF>')
  return new Parser(soql, schema, now).parse()
}

// ---------------------------------------------------------------- evaluation

export type RecordLoader = (id: string) => StoredRecord | undefined

/** Reads a (possibly relationship) field value from a record. */
export function readPath(rec: SfRecord, path: FieldPath, load: RecordLoader): unknown {
  let cur: SfRecord | null = rec
  for (const hop of path.hops) {
    const id = cur[hop.name]
    if (typeof id !== 'string') return null
    const target = load(id)
    if (!target || target.isDeleted) return null
    cur = target.data
  }
  return cur[path.field.name] ?? null
}

/** Normalizes a stored value for comparison: ids to 18 lower-case chars, text lower-case, datetimes to ms. */
function comparable(f: FieldDef, v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null
  if (f.type === 'id' || f.type === 'reference') return String(v).toLowerCase()
  if (f.type === 'datetime') return parseSfDateTime(String(v))?.getTime() ?? null
  if (f.type === 'date') return Date.parse(String(v) + 'T00:00:00Z')
  if (typeof v === 'string') return v.toLowerCase()
  return v as number | boolean
}

function literalValue(lit: Literal): string | number | boolean | null {
  switch (lit.kind) {
    case 'null': return null
    case 'string': return lit.value.toLowerCase()
    case 'number': return lit.value
    case 'boolean': return lit.value
    case 'datetime': return lit.ms
    case 'date': return Date.parse(lit.value + 'T00:00:00Z')
    case 'range': return lit.start
  }
}

function compare(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b)
  const sa = String(a)
  const sb = String(b)
  return sa < sb ? -1 : sa > sb ? 1 : 0
}

function testCmp(f: FieldDef, actual: unknown, op: string, lit: Literal): boolean {
  const a = comparable(f, actual)
  if (lit.kind === 'range') {
    if (a === null) return op === '!='
    const ms = a as number
    switch (op) {
      case '=': return ms >= lit.start && ms < lit.end
      case '!=': return !(ms >= lit.start && ms < lit.end)
      case '<': return ms < lit.start
      case '<=': return ms < lit.end
      case '>': return ms >= lit.end
      case '>=': return ms >= lit.start
    }
    return false
  }
  const b = literalValue(lit)
  if (op === '=') return a === null || b === null ? a === b : compare(a, b) === 0
  if (op === '!=') return a === null || b === null ? a !== b : compare(a, b) !== 0
  if (a === null || b === null) return false
  const c = compare(a, b)
  return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0
}

export function matches(cond: Cond, rec: SfRecord, load: RecordLoader): boolean {
  switch (cond.kind) {
    case 'and': return cond.items.every((c) => matches(c, rec, load))
    case 'or': return cond.items.some((c) => matches(c, rec, load))
    case 'not': return !matches(cond.item, rec, load)
    case 'cmp': return testCmp(cond.path.field, readPath(rec, cond.path, load), cond.op, cond.value)
    case 'in': {
      const v = readPath(rec, cond.path, load)
      const hit = cond.values.some((lit) => testCmp(cond.path.field, v, '=', lit))
      return cond.not ? !hit : hit
    }
    case 'like': {
      const v = readPath(rec, cond.path, load)
      return v !== null && cond.re.test(String(v))
    }
  }
}

/** Orders records by the ORDER BY list (nulls first on ASC, last on DESC, unless told). */
export function sortRecords(rows: SfRecord[], orderBy: Query['orderBy'], load: RecordLoader): SfRecord[] {
  if (orderBy.length === 0) return rows
  const keyed = rows.map((r, idx) => ({ r, idx, keys: orderBy.map((o) => comparable(o.path.field, readPath(r, o.path, load))) }))
  keyed.sort((x, y) => {
    for (let k = 0; k < orderBy.length; k++) {
      const a = x.keys[k]
      const b = y.keys[k]
      const o = orderBy[k]
      if (a === null && b === null) continue
      if (a === null) return o.nullsLast ? 1 : -1
      if (b === null) return o.nullsLast ? -1 : 1
      const c = compare(a, b)
      if (c !== 0) return o.desc ? -c : c
    }
    return x.idx - y.idx
  })
  return keyed.map((k) => k.r)
}

/** Finds simple bounds on SystemModstamp / Id in a top-level AND so the store can narrow its scan. */
export function scanHints(q: Query): { modstampFrom?: number; ids?: string[] } {
  const conds = q.where ? (q.where.kind === 'and' ? q.where.items : [q.where]) : []
  const hints: { modstampFrom?: number; ids?: string[] } = {}
  for (const c of conds) {
    if (c.kind === 'cmp' && c.path.hops.length === 0) {
      const name = c.path.field.name
      if (name === 'SystemModstamp' && (c.op === '>' || c.op === '>=') && c.value.kind === 'datetime') {
        hints.modstampFrom = Math.max(hints.modstampFrom ?? -Infinity, c.value.ms)
      }
      if (name === 'Id' && c.op === '=' && c.value.kind === 'string') hints.ids = [c.value.value]
    }
    if (c.kind === 'in' && !c.not && c.path.hops.length === 0 && c.path.field.name === 'Id') {
      hints.ids = c.values.flatMap((v) => (v.kind === 'string' ? [v.value] : []))
    }
  }
  return hints
}

/** Builds the JSON record a query returns: attributes, then the selected fields in order, relationships nested. */
export function projectRecord(rec: SfRecord, objName: string, paths: FieldPath[], load: RecordLoader, version: string): SfRecord {
  const out: SfRecord = { attributes: { type: objName, url: `/services/data/v${version}/sobjects/${objName}/${rec.Id as string}` } }
  for (const path of paths) placeField(out, rec, path, 0, load, version)
  return out
}

export function selectedPaths(q: Query): FieldPath[] {
  return q.items.flatMap((it) => (it.kind === 'field' ? [it.path] : []))
}

function placeField(out: SfRecord, rec: SfRecord, path: FieldPath, depth: number, load: RecordLoader, version: string): void {
  if (depth === path.hops.length) {
    out[path.field.name] = rec[path.field.name] ?? null
    return
  }
  const hop = path.hops[depth]
  const relName = hop.relationshipName!
  if (out[relName] === null) return
  const id = rec[hop.name]
  const target = typeof id === 'string' ? load(id) : undefined
  if (!target || target.isDeleted) {
    out[relName] = null
    return
  }
  let nested = out[relName] as SfRecord | undefined
  if (!nested) {
    nested = { attributes: { type: target.type, url: `/services/data/v${version}/sobjects/${target.type}/${target.id}` } }
    out[relName] = nested
  }
  placeField(nested, target.data, path, depth + 1, load, version)
}

/** Selects every field of a record, in schema order (GET /sobjects/{T}/{id} without ?fields=). */
export function fieldPathsFor(obj: ObjectDef, names: string[] | null, schema: Schema, now: Date): FieldPath[] {
  if (!names) return obj.fields.map((f) => ({ hops: [], field: f, names: [f.name] }))
  const soql = `SELECT ${names.join(', ')} FROM ${obj.name}`
  return selectedPaths(parseSoql(soql, schema, now))
}

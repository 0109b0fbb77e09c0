#!/usr/bin/env node
// Adds each migration not yet listed in src/db/migrations/checksums.json (name -> sha256 of the
// file's bytes) and prints what it added. An entry already there is never changed: it marks a
// migration as shipped, and test/db/migrations.test.ts fails when that file's bytes change.
//
//   npm run migrations:checksum             add the new migrations' checksums
//   npm run migrations:checksum -- --check  only print, write nothing (exit 1 if anything is off)
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'

const dir = new URL('../src/db/migrations/', import.meta.url)
const file = new URL('checksums.json', dir)
const MIGRATION = /^(\d{14}_[a-z0-9]+(?:_[a-z0-9]+)*)\.ts$/
const check = process.argv.includes('--check')

const listed = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}
const added = {}
const edited = []
for (const entry of readdirSync(dir).sort()) {
  const name = MIGRATION.exec(entry)?.[1]
  if (!name) continue
  const sum = createHash('sha256').update(readFileSync(new URL(entry, dir))).digest('hex')
  if (!(name in listed)) added[name] = sum
  else if (listed[name] !== sum) edited.push(name)
}

for (const [name, sum] of Object.entries(added)) console.log(`${check ? 'not listed' : 'added'}: ${name} ${sum}`)
if (Object.keys(added).length === 0) console.log('every migration is listed')
for (const name of edited) {
  console.error(`edited after it shipped: src/db/migrations/${name}.ts no longer matches its checksum (left as is); ` +
    'restore the file and write a new migration instead')
}
if (!check && Object.keys(added).length > 0) {
  const all = { ...listed, ...added }
  const sorted = Object.fromEntries(Object.keys(all).sort().map((name) => [name, all[name]]))
  writeFileSync(file, JSON.stringify(sorted, null, 2) + '\n')
}
if (edited.length > 0 || (check && Object.keys(added).length > 0)) process.exitCode = 1

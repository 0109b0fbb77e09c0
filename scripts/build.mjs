// The production build `npm start` runs: every TypeScript file of src/, sync/ and bench/ transpiled
// to JavaScript under dist/ (one file per file, no bundling, no type check: `npm test` type-checks),
// with views/, public/ and package.json linked in so the code finds them where it expects. The
// product then runs on plain Node: no TypeScript loader thread in each process (about 60 MiB of
// memory per process less) and no compiling at start-up. Takes about a second.
//
//   node scripts/build.mjs [--out dist] [--verbose]
import { existsSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'

const root = new URL('..', import.meta.url).pathname
const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist' }, verbose: { type: 'boolean', default: false } } })
const out = join(root, values.out)

/** The TypeScript files under a folder of the project, as absolute paths. */
function sources(dir) {
  return readdirSync(join(root, dir), { recursive: true })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => join(root, dir, name))
}

const started = Date.now()
// Built beside the old build and swapped in at the end: a process already running from dist/ (a
// second `npm start`, a test's server) never sees a half-written tree.
const next = `${out}.next-${process.pid}`
rmSync(next, { recursive: true, force: true })
const entryPoints = ['src', 'sync', 'bench'].flatMap((dir) => sources(dir))
await build({
  entryPoints,
  outdir: next,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning'
})
for (const linked of ['views', 'public', 'package.json']) {
  symlinkSync(join('..', linked), join(next, linked))
}
const old = `${out}.old-${process.pid}`
if (existsSync(out)) renameSync(out, old)
renameSync(next, out)
rmSync(old, { recursive: true, force: true })
if (values.verbose) process.stdout.write(`built ${entryPoints.length} files into ${relative(root, out) || '.'}/ in ${Date.now() - started} ms\n`)

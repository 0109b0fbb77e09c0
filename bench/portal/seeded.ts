// The data directory a benchmark runs on (made by bench/portal/seed.ts): its description and the
// configuration the app is built with there.
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadConfig, type Config } from '../../src/config.js'
import type { BenchInfo } from './seed.js'

export function openSeeded(data: string | undefined): { dir: string; info: BenchInfo; config: Config } {
  if (!data) throw new Error('pass --data DIR (a directory made by bench/portal/seed.ts)')
  const dir = resolve(data)
  if (!existsSync(join(dir, 'bench.json'))) throw new Error(`${dir}/bench.json is missing: seed first`)
  const info = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as BenchInfo
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', COOKIE_SECURE: 'false', SEED: 'none', LOGIN_RATE_LIMIT: '1000' })
  return { dir, info, config }
}

/** Runs a benchmark's main function, printing its failure and exiting 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  })
}

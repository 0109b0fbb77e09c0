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

/** A browser's login: fetch the form for its CSRF token and cookie, post it, keep the session cookie. */
export async function login(base: string, email: string, password: string): Promise<string> {
  const form = await fetch(`${base}/login`)
  const html = await form.text()
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1]
  if (!csrf) throw new Error('no CSRF token on the login page')
  const jar = new Map<string, string>()
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const eq = pair.indexOf('=')
      jar.set(pair.slice(0, eq), pair.slice(eq + 1))
    }
  }
  keep(form)
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    body: new URLSearchParams({ _csrf: csrf, email, password }).toString()
  })
  if (res.status !== 302) throw new Error(`login as ${email} answered ${res.status}`)
  keep(res)
  // The page the login leads to, as a browser follows it, keeping what it sets (the CSRF secret).
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const home = await fetch(new URL(res.headers.get('location') ?? '/', base), { headers: { cookie: cookie() }, redirect: 'manual' })
  await home.arrayBuffer()
  keep(home)
  return cookie()
}

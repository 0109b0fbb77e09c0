import type { Locale } from '../domain/permissions.js'
import { catalogs } from './messages/index.js'
import { BoundedMap } from '../domain/bounded-map.js'

export const LOCALES: readonly Locale[] = ['en', 'pt-BR']

export type Params = Record<string, string | number | null | undefined>
export type Translate = (key: string, params?: Params) => string

type Catalog = Record<string, string>

function merged(locale: Locale): Catalog {
  const out: Catalog = {}
  for (const c of catalogs) Object.assign(out, c[locale])
  return out
}

const MESSAGES: Record<Locale, Catalog> = { en: merged('en'), 'pt-BR': merged('pt-BR') }

export function messagesFor(locale: Locale): Readonly<Catalog> {
  return MESSAGES[locale]
}

function interpolate(text: string, params?: Params): string {
  if (!params) return text
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name]
    return value === undefined || value === null ? whole : String(value)
  })
}

/** A translator: the locale's text, else English, else the key itself (so gaps are visible). */
export function translator(locale: Locale): Translate {
  const primary = MESSAGES[locale]
  const fallback = MESSAGES.en
  return (key, params) => interpolate(primary[key] ?? fallback[key] ?? key, params)
}

export function isLocale(value: unknown): value is Locale {
  return value === 'en' || value === 'pt-BR'
}

/**
 * The locale for a browser's Accept-Language, given @fastify/accepts' `request.languages`: the
 * best of en and pt-BR, else `fallback` (also the answer to `*` or no header at all).
 */
export function browserLocale(languages: (offered: string[]) => string | false, fallback: Locale): Locale {
  // A bare `pt` is offered too: negotiation matches a pt-PT or pt-AO browser to `pt`, never to
  // `pt-BR`, and any Portuguese reads pt-BR here rather than English.
  const best = languages([fallback, ...LOCALES.filter((l) => l !== fallback), 'pt'])
  if (best === 'pt') return 'pt-BR'
  return isLocale(best) ? best : fallback
}

/** Formats an ISO timestamp for display in the user's locale (UTC shown as such). */
// Building an Intl formatter costs far more than using one: one per locale, made once.
const DATE_TIME_FORMATS: Record<Locale, Intl.DateTimeFormat> = {
  en: new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }),
  'pt-BR': new Intl.DateTimeFormat('pt-BR', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })
}

// A page of 20 tickets formats about 40 dates, each a few microseconds of Intl: the words of a
// minute are kept (by locale and minute), up to 5,000 of them, oldest out first.
const formattedDates = new BoundedMap<string, string>(5_000)

/** An amount in cents, two decimals; with the currency's sign when one is given (ISO 4217 code). */
export function formatMoney(cents: number, locale: Locale, currency?: string): string {
  const options: Intl.NumberFormatOptions = currency ? { style: 'currency', currency } : {}
  return new Intl.NumberFormat(locale, { ...options, minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(cents / 100)
}

export function formatDateTime(value: string | null | undefined, locale: Locale): string {
  if (!value) return ''
  const date = new Date(value)
  const time = date.getTime()
  if (Number.isNaN(time)) return ''
  const key = `${locale} ${Math.floor(time / 60_000)}`
  let text = formattedDates.get(key)
  if (text === undefined) {
    text = DATE_TIME_FORMATS[locale].format(date) + ' UTC'
    formattedDates.set(key, text)
  }
  return text
}

/** The compact form of formatDateTime for lists, "2026-12-07 14:05" (UTC) in every language; the full one goes in its title. */
export function formatShortDateTime(value: string | null | undefined): string {
  if (!value) return ''
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return ''
  const iso = date.toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`
}

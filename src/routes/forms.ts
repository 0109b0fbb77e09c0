import type { UploadedFile } from '../storage/attachments.js'
import type { Translate } from '../i18n/index.js'

export type FormBody = Record<string, unknown>
export type FormErrors = Record<string, string>

/** A trimmed string field (first value when repeated); '' when absent. */
export function text(body: FormBody | undefined, name: string): string {
  const v = body?.[name]
  const first = Array.isArray(v) ? v[0] : v
  return typeof first === 'string' ? first.trim() : ''
}

/** A positive integer id field, or null when empty/invalid. */
export function id(body: FormBody | undefined, name: string): number | null {
  const raw = text(body, name)
  return /^\d{1,12}$/.test(raw) && Number(raw) > 0 ? Number(raw) : null
}

export function flag(body: FormBody | undefined, name: string): boolean {
  const raw = text(body, name)
  return raw === 'on' || raw === '1' || raw === 'true'
}

/** Files of a multipart field, always as a list. */
export function files(body: FormBody | undefined, name: string): UploadedFile[] {
  const v = body?.[name]
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v]
  return list.filter((f): f is UploadedFile => typeof f === 'object' && f !== null && 'tmpPath' in f)
}

export function checkLength(errors: FormErrors, t: Translate, name: string, value: string, max: number, required = true) {
  if (required && !value) errors[name] = t('validation.required')
  else if (value.length > max) errors[name] = t('validation.tooLong', { max })
}

export function checkUrl(errors: FormErrors, t: Translate, name: string, value: string) {
  if (!value) return
  try {
    const u = new URL(value)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme')
    if (value.length > 2000) throw new Error('length')
  } catch {
    errors[name] = t('validation.invalidUrl')
  }
}

export function checkUploads(errors: FormErrors, t: Translate, name: string, uploads: UploadedFile[], maxMb: number) {
  const tooBig = uploads.find((f) => f.truncated)
  if (tooBig) errors[name] = t('validation.fileTooLarge', { filename: tooBig.filename, max: maxMb })
}

export function oneOf<T extends string>(value: string, options: readonly T[]): T | null {
  return (options as readonly string[]).includes(value) ? (value as T) : null
}

/** Keeps what the person typed so an invalid form comes back filled in. */
export function echo(body: FormBody | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(body ?? {})) {
    if (k === '_csrf' || k.toLowerCase().includes('password')) continue
    const first = Array.isArray(v) ? v[0] : v
    if (typeof first === 'string') out[k] = first
  }
  return out
}

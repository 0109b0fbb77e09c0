// What text both databases store alike. PostgreSQL refuses NUL in text and SQLite keeps it; a
// lone UTF-16 surrogate has no UTF-8 form, so each driver writes something else for it. Text a
// person or an API client sends is refused when it holds either (commands' FieldCheck.text, the
// API's body check); text from the CRM or from mail, which nobody can resend, is cleaned instead.

/** C0 control characters except tab, line feed and carriage return. */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/
const CONTROLS = new RegExp(CONTROL.source, 'g')
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g')

/** Whether `text` holds a character no text field accepts: a C0 control other than \t \n \r, or a lone surrogate. */
export function hasForbiddenControl(text: string): boolean {
  return CONTROL.test(text) || LONE_SURROGATE.test(text)
}

/** `text` with forbidden controls removed and each lone surrogate replaced by U+FFFD (as a UTF-8 decoder does). */
export function cleanText(text: string): string {
  if (!hasForbiddenControl(text)) return text
  return text.replace(CONTROLS, '').replace(LONE_SURROGATES, '\uFFFD')
}

/** At most `max` UTF-16 units of `text`, never cutting a surrogate pair in half. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text
  const end = max > 0 && /[\uD800-\uDBFF]/.test(text[max - 1]) && /[\uDC00-\uDFFF]/.test(text[max]) ? max - 1 : max
  return text.slice(0, end)
}

// XML 1.0 cannot carry most control characters, U+FFFE/U+FFFF or lone surrogates (mail subjects
// sometimes hold them): a spreadsheet cell with one would not open.
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** Text as a spreadsheet cell may hold it: what XML cannot carry removed, at most Excel's 32,000 characters; null for none. */
export function cellText(value: string | null | undefined): string | null {
  return value ? value.replace(XML_INVALID, '').slice(0, 32_000) : null
}

/** Whether any string in `value` (an object's keys and values, an array's items, at any depth) holds a forbidden character. */
export function holdsForbiddenText(value: unknown): boolean {
  if (typeof value === 'string') return hasForbiddenControl(value)
  if (Array.isArray(value)) return value.some(holdsForbiddenText)
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).some(([key, item]) => hasForbiddenControl(key) || holdsForbiddenText(item))
  }
  return false
}

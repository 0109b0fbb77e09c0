import pino, { type Logger, type LoggerOptions } from 'pino'

export const REDACT_PATHS = [
  'password',
  '*.password',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.clientSecret'
]

export function loggerOptions(level: string): LoggerOptions {
  return { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
}

/** The one root logger; workers take child loggers from it. */
export function createLogger(level: string): Logger {
  return pino(loggerOptions(level))
}

export type { Logger }

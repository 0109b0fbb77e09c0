/** Salesforce's REST error shapes: `[{ message, errorCode, fields? }]` with an HTTP status. */
export class SfError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields: string[] = []
  ) {
    super(message)
    this.name = 'SfError'
  }

  /** The top-level body of a failed REST call. */
  toBody(): Array<Record<string, unknown>> {
    const e: Record<string, unknown> = { message: this.message, errorCode: this.errorCode }
    if (this.fields.length > 0) e.fields = this.fields
    return [e]
  }

  /** The per-record error inside a save result (sObject Collections). */
  toRecordError(): { statusCode: string; message: string; fields: string[] } {
    return { statusCode: this.errorCode, message: this.message, fields: this.fields }
  }
}

export const notFound = () => new SfError(404, 'NOT_FOUND', 'The requested resource does not exist')

export const sessionInvalid = () => new SfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid')

export const noSuchColumnForWrite = (field: string, type: string) =>
  new SfError(400, 'INVALID_FIELD', `No such column '${field}' on sobject of type ${type}`)

/** The OAuth token endpoint's own error shape: `{ error, error_description }`. */
export class OAuthError extends Error {
  constructor(readonly status: number, readonly error: string, description: string) {
    super(description)
  }
}

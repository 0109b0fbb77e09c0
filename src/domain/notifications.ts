// The notifications commands queue, by template name (src/mail renders each in both languages).

/** The mail that asks a manager to approve a request. */
export const APPROVAL_TEMPLATE = 'ticket.approval_request'

/** The pointer to the portal an unknown sender may get (once per address and day). */
export const UNKNOWN_SENDER_TEMPLATE = 'inbound.unknown_sender'

/** The mail that tells its owner an export is ready (with the file when it is small enough). */
export const EXPORT_READY_TEMPLATE = 'export.ready'

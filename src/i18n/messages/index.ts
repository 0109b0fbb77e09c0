import type { Locale } from '../../domain/permissions.js'
import common from './common.js'
import auth from './auth.js'
import ticket from './ticket.js'
import portal from './portal.js'
import desk from './desk.js'
import admin from './admin.js'
import api from './api.js'
import mail from './mail.js'
import sync from './sync.js'
import inbound from './inbound.js'
import reports from './reports.js'
import search from './search.js'
import exportsCatalog from './exports.js'
import approval from './approval.js'
import security from './security.js'
import serviceHours from './service-hours.js'
import lists from './lists.js'
import queueViews from './queue-views.js'
import live from './live.js'
import notifications from './notifications.js'
import a11y from './a11y.js'
import csat from './csat.js'
import { LIFECYCLE_MESSAGES } from '../../domain/lifecycle.js'

export type MessageCatalog = Record<Locale, Record<string, string>>

/** Every catalog; each area of the product keeps its own file. */
export const catalogs: MessageCatalog[] = [common, auth, ticket, LIFECYCLE_MESSAGES, portal, desk, admin, api, mail, inbound, sync, reports, search, exportsCatalog, approval, security, serviceHours, lists, queueViews, live, notifications, csat, a11y]

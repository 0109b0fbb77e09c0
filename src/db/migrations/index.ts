import type { Migration, MigrationProvider } from 'kysely'
import * as foundation from './20261123000000_foundation.js'
import * as serviceManagement from './20261123010000_service_management.js'
import * as benchIndexes from './20261123020000_bench_indexes.js'
import * as crmSync from './20261123030000_crm_sync.js'
import * as mailInbound from './20261123050000_mail_inbound.js'
import * as assignmentIndex from './20261123060000_assignment_index.js'
import * as approval from './20261123070000_approval.js'
import * as exportJobs from './20261123080000_exports.js'
import * as searchIndexes from './20261123090000_search_indexes.js'
import * as pgAccents from './20261123100000_pg_accents.js'
import * as dropDuplicateAssigneeIndex from './20261205000000_drop_duplicate_assignee_index.js'
import * as apiIdempotency from './20261206010000_api_idempotency.js'
import * as workerHeartbeat from './20261206020000_worker_heartbeat.js'
import * as slaWatch from './20261206025000_sla_watch.js'
import * as workerStats from './20261206040000_worker_stats.js'
import * as storedBlob from './20261206060000_stored_blob.js'
import * as noteOriginalText from './20261206070000_note_original_text.js'
import * as sessionsAndSecurity from './20261206080000_sessions_and_security.js'
import * as idempotencyOutcome from './20261206090000_idempotency_outcome.js'
import * as staffOpenTickets from './20261206100000_staff_open_tickets.js'
import * as referenceVersion from './20261206110000_reference_version.js'
import * as sessionSweepIndex from './20261206120000_session_sweep_index.js'
import * as adminAudit from './20261207090000_admin_audit.js'
import * as businessHours from './20261208090000_business_hours.js'
import * as crmPeopleOutbox from './20261208100000_crm_people_outbox.js'
import * as managedLists from './20261209090000_managed_lists.js'
import * as contactMerge from './20261209100000_contact_merge.js'
import * as deskMail from './20261209110000_desk_mail.js'
import * as staffReach from './20261209120000_staff_reach.js'
import * as catalogDefaultPriority from './20261209130000_catalog_default_priority.js'
import * as staffCatalogAreas from './20261209140000_staff_catalog_areas.js'
import * as productSearchIndex from './20261210090000_product_search_index.js'
import * as requesterSearchIndex from './20261210100000_requester_search_index.js'
import * as routingReference from './20261211090000_routing_reference.js'
import * as cannedResponses from './20261212090000_canned_responses.js'
import * as liveFeed from './20261213090000_live_feed.js'
import * as bulkJobs from './20261217090000_bulk_jobs.js'
import * as liveNotifications from './20261218090000_live_notifications.js'
import * as notifications from './20261214090000_notifications.js'
import * as queueViews from './20261215090000_queue_views.js'
import * as surveyRatedAtIndex from './20261219090000_survey_rated_at_index.js'
import * as knowledgeBase from './20261220090000_knowledge_base.js'
import * as kbVocabulary from './20261221090000_kb_vocabulary.js'
import * as kbAttachments from './20261222090000_kb_attachments.js'
import * as kbDeflection from './20261222100000_kb_deflection.js'
import * as kbSearchHead from './20261222110000_kb_search_head.js'
import * as kbActivityTime from './20261222120000_kb_activity_time.js'

/** Migrations in order; each file is frozen once it has shipped. */
export const migrations: Record<string, Migration> = {
  '20261123000000_foundation': foundation,
  '20261123010000_service_management': serviceManagement,
  '20261123020000_bench_indexes': benchIndexes,
  '20261123030000_crm_sync': crmSync,
  '20261123050000_mail_inbound': mailInbound,
  '20261123060000_assignment_index': assignmentIndex,
  '20261123070000_approval': approval,
  '20261123080000_exports': exportJobs,
  '20261123090000_search_indexes': searchIndexes,
  '20261123100000_pg_accents': pgAccents,
  '20261205000000_drop_duplicate_assignee_index': dropDuplicateAssigneeIndex,
  '20261206010000_api_idempotency': apiIdempotency,
  '20261206020000_worker_heartbeat': workerHeartbeat,
  '20261206025000_sla_watch': slaWatch,
  '20261206040000_worker_stats': workerStats,
  '20261206060000_stored_blob': storedBlob,
  '20261206070000_note_original_text': noteOriginalText,
  '20261206080000_sessions_and_security': sessionsAndSecurity,
  '20261206090000_idempotency_outcome': idempotencyOutcome,
  '20261206100000_staff_open_tickets': staffOpenTickets,
  '20261206110000_reference_version': referenceVersion,
  '20261206120000_session_sweep_index': sessionSweepIndex,
  '20261207090000_admin_audit': adminAudit,
  '20261208090000_business_hours': businessHours,
  '20261208100000_crm_people_outbox': crmPeopleOutbox,
  '20261209090000_managed_lists': managedLists,
  '20261209100000_contact_merge': contactMerge,
  '20261209110000_desk_mail': deskMail,
  '20261209120000_staff_reach': staffReach,
  '20261209130000_catalog_default_priority': catalogDefaultPriority,
  '20261209140000_staff_catalog_areas': staffCatalogAreas,
  '20261210090000_product_search_index': productSearchIndex,
  '20261210100000_requester_search_index': requesterSearchIndex,
  '20261211090000_routing_reference': routingReference,
  '20261212090000_canned_responses': cannedResponses,
  '20261213090000_live_feed': liveFeed,
  '20261214090000_notifications': notifications,
  '20261215090000_queue_views': queueViews,
  '20261217090000_bulk_jobs': bulkJobs,
  '20261218090000_live_notifications': liveNotifications,
  '20261219090000_survey_rated_at_index': surveyRatedAtIndex,
  '20261220090000_knowledge_base': knowledgeBase,
  '20261221090000_kb_vocabulary': kbVocabulary,
  '20261222090000_kb_attachments': kbAttachments,
  '20261222100000_kb_deflection': kbDeflection,
  '20261222110000_kb_search_head': kbSearchHead,
  '20261222120000_kb_activity_time': kbActivityTime
}

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { notFound } from '../../plugins/app.js'
import { accountContacts, contactIdByEmail, contactProfile, getAccount, listAccountsForAdmin } from '../../db/client-admin.js'
import { listAudit } from '../../db/admin-audit.js'
import { personWho } from '../../commands/kernel.js'
import { addAccount, addContact, CLIENT_LIMITS, editAccount, editContact, setClientAccountActive, setContactMemberActive } from '../../commands/client-admin.js'
import { invitePerson } from '../../commands/account-links.js'
import { mergeContacts, previewMerge } from '../../commands/contact-merge.js'
import { LOCALES } from '../../i18n/index.js'
import { Checkbox, echo, Files, files, Form, formFailure, OptionalId, Text, type FormErrors } from '../forms.js'
import { readFile } from 'node:fs/promises'
import { importContacts, IMPORT_MAX_ROWS, previewContactImport, type ImportPreview } from '../../commands/client-import.js'
import { fieldMessages } from '../refusals.js'
import { ActiveForm, adminOnly, IdParams, Ids, pathId, postedActive, postedIds, throwAccessRefusal, type FormValues } from './shared.js'

const AccountForm = Form({ name: Text })
const NewContactForm = Form({ name: Text, email: Text, locale: Text, phone: Text, manager: Checkbox })
const ContactForm = Form({ name: Text, email: Text, locale: Text, phone: Text, accounts: Ids, managers: Ids, add_account: OptionalId, add_manager: Checkbox })
const ImportForm = Form({ csv: Type.Optional(Type.String()), create_accounts: Checkbox, file: Files })
const ListQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) })
const MergeQuery = Type.Object({ email: Type.Optional(Type.String({ maxLength: 254 })) })
const MergeForm = Form({ merge_id: OptionalId })
const FORM_MESSAGES = {
  manager: 'validation.invalidChoice', accounts: 'validation.invalidChoice', managers: 'validation.invalidChoice',
  add_account: 'validation.invalidChoice', add_manager: 'validation.invalidChoice'
}
const ACCOUNT_WORDS = { keys: { 'name.taken': 'admin.accounts.nameTaken' } }
const CONTACT_WORDS = {
  names: { memberships: 'accounts' },
  keys: { 'email.taken': 'admin.staff.emailTaken', 'memberships.required': 'admin.contacts.needsAccount', phone: 'admin.contacts.phoneInvalid' }
}

/**
 * Client accounts (mounted at /admin/accounts) and their contacts (/admin/contacts): lists,
 * adding (a contact is mailed an invitation), editing, the accounts a contact belongs to and
 * manages, turning a contact's login off and on.
 */
export default async function adminClients(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.addHook('preHandler', adminOnly)
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }
  const who = (request: FastifyRequest) => personWho(request.actor!)
  const formError = (request: FastifyRequest, errors: FormErrors) => (Object.keys(errors).length > 0 ? request.t('common.formErrors') : null)

  // ---- accounts ----

  fastify.get('/accounts', { schema: { querystring: ListQuery } }, async (request, reply) => {
    const q = request.query.q ?? ''
    return reply.page('admin/accounts', { title: request.t('admin.accounts.title'), q, accounts: await listAccountsForAdmin(fastify.db, q), values: {}, errors: {} })
  })

  fastify.post('/accounts', { schema: { body: AccountForm }, attachValidation: true }, async (request, reply) => {
    // A name sent twice (or not as text) is a 400 like any body the form cannot have sent.
    formFailure(request, {})
    const outcome = await addAccount(deps, who(request), { name: request.body.name })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      const errors = fieldMessages(request.t, outcome.refusal, ACCOUNT_WORDS)
      return reply.page('admin/accounts', {
        title: request.t('admin.accounts.title'), q: '', accounts: await listAccountsForAdmin(fastify.db), values: echo(request), errors, formError: formError(request, errors)
      }, 422)
    }
    reply.flash('success', request.t('admin.accounts.added', { name: request.body.name }))
    return reply.redirect(`/admin/accounts/${outcome.value.id}`)
  })

  async function accountPage(request: FastifyRequest, reply: FastifyReply, id: number, state: { values?: FormValues; contactValues?: FormValues; errors?: FormErrors; contactErrors?: FormErrors; status?: number } = {}) {
    const account = await getAccount(fastify.db, id)
    if (!account) throw notFound()
    const [contacts, audit] = await Promise.all([accountContacts(fastify.db, id), listAudit(fastify.db, { entity: 'account', entityId: id, limit: 20 })])
    const errors = state.errors ?? {}
    const contactErrors = state.contactErrors ?? {}
    return reply.page('admin/account', {
      title: request.t('admin.accounts.editTitle', { name: account.name }), account, contacts, locales: LOCALES, audit: audit.rows,
      values: state.values ?? { name: account.name }, errors, formError: formError(request, errors),
      contactValues: state.contactValues ?? { locale: '' }, contactErrors, contactFormError: formError(request, contactErrors),
      maxName: CLIENT_LIMITS.accountName
    }, state.status ?? 200)
  }

  fastify.get('/accounts/:id', { schema: { params: IdParams } }, async (request, reply) => accountPage(request, reply, pathId(request)))

  fastify.post('/accounts/:id/active', { schema: { params: IdParams, body: ActiveForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const active = postedActive(request, reply)
    if (active === null) return reply.redirect(`/admin/accounts/${id}`)
    const outcome = await setClientAccountActive(deps, who(request), { accountId: id, active })
    if (!outcome.ok) throwAccessRefusal(outcome.refusal)
    reply.flash('success', request.t(active ? 'admin.accounts.enabled' : 'admin.accounts.disabled'))
    return reply.redirect(`/admin/accounts/${id}`)
  })

  fastify.post('/accounts/:id', { schema: { params: IdParams, body: AccountForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    formFailure(request, {})
    const outcome = await editAccount(deps, who(request), { accountId: id, name: request.body.name })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return accountPage(request, reply, id, { values: echo(request), errors: fieldMessages(request.t, outcome.refusal, ACCOUNT_WORDS), status: 422 })
    }
    reply.flash(outcome.value.changed ? 'success' : 'info', request.t(outcome.value.changed ? 'admin.saved' : 'admin.staff.nothingChanged'))
    return reply.redirect(`/admin/accounts/${id}`)
  })

  fastify.post('/accounts/:id/contacts', { schema: { params: IdParams, body: NewContactForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    if (!(await getAccount(fastify.db, id))) throw notFound()
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return accountPage(request, reply, id, { contactValues: echo(request), contactErrors: { [failure.field]: failure.message }, status: 422 })
    const b = request.body
    const outcome = await addContact(deps, who(request), {
      name: b.name, email: b.email, locale: b.locale === '' ? null : b.locale, phone: b.phone, memberships: [{ accountId: id, manager: b.manager !== undefined }]
    })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return accountPage(request, reply, id, { contactValues: echo(request), contactErrors: fieldMessages(request.t, outcome.refusal, CONTACT_WORDS), status: 422 })
    }
    reply.flash('success', request.t('admin.staff.added', { email: b.email.toLowerCase() }))
    return reply.redirect(`/admin/accounts/${id}`)
  })

  // ---- contacts ----

  async function contactPage(request: FastifyRequest, reply: FastifyReply, id: number, state: { values?: FormValues; errors?: FormErrors; mergeEmail?: string; mergeError?: string; status?: number } = {}) {
    const profile = await contactProfile(fastify.db, id)
    if (!profile) throw notFound()
    const [accounts, audit] = await Promise.all([listAccountsForAdmin(fastify.db), listAudit(fastify.db, { entity: 'contact', entityId: id, limit: 20 })])
    const errors = state.errors ?? {}
    const names = new Map(accounts.map((a) => [a.id, a.name]))
    const mergedInto = profile.mergedIntoId === null ? null : await contactProfile(fastify.db, profile.mergedIntoId)
    return reply.page('admin/contact', {
      title: request.t('admin.contacts.editTitle', { name: profile.name }), profile, locales: LOCALES, audit: audit.rows, mergedInto: mergedInto ?? null,
      mergeEmail: state.mergeEmail ?? '', mergeError: state.mergeError ?? null,
      memberships: profile.memberships.map((m) => ({ ...m, name: names.get(m.accountId) ?? `#${m.accountId}` })),
      others: accounts.filter((a) => !profile.memberships.some((m) => m.accountId === a.id)),
      values: state.values ?? {
        name: profile.name, email: profile.email, locale: profile.locale ?? '', phone: profile.phone ?? '',
        accounts: profile.memberships.map((m) => m.accountId), managers: profile.memberships.filter((m) => m.manager).map((m) => m.accountId)
      },
      errors, formError: formError(request, errors)
    }, state.status ?? 200)
  }

  const postedContact = (request: FastifyRequest): FormValues => ({ ...echo(request), accounts: postedIds(request, 'accounts'), managers: postedIds(request, 'managers') })

  fastify.get('/contacts/:id', { schema: { params: IdParams } }, async (request, reply) => contactPage(request, reply, pathId(request)))

  fastify.post('/contacts/:id', { schema: { params: IdParams, body: ContactForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return contactPage(request, reply, id, { values: postedContact(request), errors: { [failure.field]: failure.message }, status: 422 })
    const b = request.body
    const accountIds = [...b.accounts, ...(b.add_account === null ? [] : [b.add_account])]
    const memberships = accountIds.map((accountId) => ({
      accountId, manager: b.managers.includes(accountId) || (accountId === b.add_account && b.add_manager !== undefined)
    }))
    const outcome = await editContact(deps, who(request), { contactId: id, name: b.name, email: b.email, locale: b.locale === '' ? null : b.locale, phone: b.phone, memberships })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return contactPage(request, reply, id, { values: postedContact(request), errors: fieldMessages(request.t, outcome.refusal, CONTACT_WORDS), status: 422 })
    }
    reply.flash(outcome.value.changed ? 'success' : 'info', request.t(outcome.value.changed ? 'admin.saved' : 'admin.staff.nothingChanged'))
    return reply.redirect(`/admin/contacts/${id}`)
  })

  fastify.post('/contacts/:id/active', { schema: { params: IdParams, body: ActiveForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const active = postedActive(request, reply)
    if (active === null) return reply.redirect(`/admin/contacts/${id}`)
    const outcome = await setContactMemberActive(deps, who(request), { contactId: id, active, client: request.client() })
    if (!outcome.ok) throwAccessRefusal(outcome.refusal)
    reply.flash('success', request.t(active ? 'admin.staff.enabled' : 'admin.staff.disabled'))
    return reply.redirect(`/admin/contacts/${id}`)
  })

  fastify.post('/contacts/:id/invite', { schema: { params: IdParams, body: Form({}) } }, async (request, reply) => {
    const id = pathId(request)
    const profile = await contactProfile(fastify.db, id)
    if (!profile) throw notFound()
    const outcome = await invitePerson(deps, who(request), { email: profile.email, client: request.client() })
    reply.flash(outcome.ok ? 'success' : 'error', request.t(outcome.ok ? 'admin.contacts.invited' : 'admin.contacts.inviteInactive', { email: profile.email }))
    return reply.redirect(`/admin/contacts/${id}`)
  })

  // ---- merging a duplicate into a contact: what would move, then the merge ----

  const MERGE_MESSAGES: Record<string, string> = { mergeId: 'admin.merge.notFound', keepId: 'admin.merge.keptMerged' }

  fastify.get('/contacts/:id/merge', { schema: { params: IdParams, querystring: MergeQuery } }, async (request, reply) => {
    const id = pathId(request)
    const email = request.query.email?.trim() ?? ''
    const mergeId = email === '' ? undefined : await contactIdByEmail(fastify.db, email)
    const preview = await previewMerge(deps, who(request), { keepId: id, mergeId: mergeId ?? 0 })
    if (!preview.ok) {
      throwAccessRefusal(preview.refusal)
      const [field, refusal] = Object.entries(preview.refusal.fields)[0] ?? []
      const key = email === '' ? 'admin.merge.needEmail' : refusal?.problem === 'not_yourself' ? 'admin.merge.same' : MERGE_MESSAGES[field ?? ''] ?? 'admin.merge.notFound'
      return contactPage(request, reply, id, { mergeEmail: email, mergeError: request.t(key, { email }), status: 422 })
    }
    const [keep, merge] = await Promise.all([contactProfile(fastify.db, id), contactProfile(fastify.db, mergeId!)])
    const accounts = new Map((await listAccountsForAdmin(fastify.db)).map((a) => [a.id, a.name]))
    return reply.page('admin/contact-merge', {
      title: request.t('admin.merge.title', { name: keep!.name }), keep, merge, scope: preview.value,
      newAccounts: preview.value.newAccounts.map((a) => accounts.get(a.accountId) ?? `#${a.accountId}`)
    })
  })

  fastify.post('/contacts/:id/merge', { schema: { params: IdParams, body: MergeForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    if (formFailure(request, { merge_id: 'admin.merge.notFound' }) || request.body.merge_id === null) {
      return contactPage(request, reply, id, { mergeError: request.t('admin.merge.needEmail'), status: 422 })
    }
    const outcome = await mergeContacts(deps, who(request), { keepId: id, mergeId: request.body.merge_id })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return contactPage(request, reply, id, { mergeError: request.t('admin.merge.notFound'), status: 422 })
    }
    request.log.info({ keepId: id, mergeId: request.body.merge_id, tickets: outcome.value.tickets, by: request.actor!.id }, 'contacts merged')
    reply.flash('success', request.t('admin.merge.done', { count: outcome.value.tickets }))
    return reply.redirect(`/admin/contacts/${id}`)
  })

  // ---- importing contacts from a CSV file ----

  const importPage = (request: FastifyRequest, reply: FastifyReply, state: { csv?: string; createAccounts?: boolean; preview?: ImportPreview; status?: number; error?: string } = {}) =>
    reply.page('admin/import', {
      title: request.t('admin.import.title'), maxRows: IMPORT_MAX_ROWS,
      csv: state.csv ?? '', createAccounts: state.createAccounts ?? false, preview: state.preview ?? null,
      formError: state.error ?? null,
      problemText: (p: ImportPreview['problems'][number]) => request.t(`admin.import.problem.${p.problem}`, { column: p.column, ...p.params })
    }, state.status ?? 200)

  /** The file chosen, or else the text pasted. */
  async function postedCsv(request: FastifyRequest, body: typeof ImportForm.static): Promise<string> {
    const [file] = files(request, body.file)
    if (file && file.size > 0) return (await readFile(file.tmpPath)).toString('utf8')
    return body.csv ?? ''
  }

  /** The rows and the choice both import forms post; null when the form itself cannot be read. */
  async function postedImport(request: FastifyRequest, body: typeof ImportForm.static) {
    if (formFailure(request, { create_accounts: 'validation.invalidChoice', csv: 'admin.import.problem.unreadable', file: 'admin.import.problem.unreadable' })) return null
    return { csv: await postedCsv(request, body), createAccounts: body.create_accounts !== undefined }
  }

  fastify.get('/accounts/import', async (request, reply) => importPage(request, reply))

  fastify.post('/accounts/import/preview', { schema: { body: ImportForm }, attachValidation: true }, async (request, reply) => {
    const posted = await postedImport(request, request.body)
    if (!posted) return importPage(request, reply, { status: 422, error: request.t('admin.import.problem.unreadable', { column: '' }) })
    const { csv, createAccounts } = posted
    const outcome = await previewContactImport(deps, who(request), { csv, createAccounts })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      throw outcome.refusal
    }
    const preview = outcome.value
    return importPage(request, reply, { csv, createAccounts, preview, status: preview.problems.length > 0 ? 422 : 200 })
  })

  fastify.post('/accounts/import', { schema: { body: ImportForm }, attachValidation: true }, async (request, reply) => {
    const posted = await postedImport(request, request.body)
    if (!posted) return importPage(request, reply, { status: 422, error: request.t('admin.import.problem.unreadable', { column: '' }) })
    const { csv, createAccounts } = posted
    const outcome = await importContacts(deps, who(request), { csv, createAccounts })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      // Something changed since the preview (or the file was altered): show what is wrong now.
      const again = await previewContactImport(deps, who(request), { csv, createAccounts })
      return importPage(request, reply, { csv, createAccounts, preview: again.ok ? again.value : undefined, status: 422, error: request.t('admin.import.nothingImported') })
    }
    reply.flash('success', request.t('admin.import.done', { contacts: outcome.value.contacts, accounts: outcome.value.accounts }))
    return reply.redirect('/admin/accounts')
  })
}

/** The sObjects the emulator knows: a small, faithful slice of Salesforce's standard objects. */

export type FieldType =
  | 'id' | 'string' | 'textarea' | 'picklist' | 'email' | 'phone' | 'url'
  | 'boolean' | 'datetime' | 'date' | 'double' | 'int' | 'currency' | 'reference'

export interface FieldDef {
  name: string
  label: string
  type: FieldType
  length?: number
  createable: boolean
  updateable: boolean
  nillable: boolean
  /** Required on create through the API (not nillable, no default). */
  required?: boolean
  externalId?: boolean
  unique?: boolean
  idLookup?: boolean
  referenceTo?: string[]
  relationshipName?: string
  picklistValues?: string[]
  defaultValue?: unknown
  /** Computed by the emulator (Name, IsClosed, CaseNumber...). */
  calculated?: boolean
  autoNumber?: boolean
  filterable: boolean
  sortable: boolean
  custom: boolean
}

export interface ObjectDef {
  name: string
  label: string
  labelPlural: string
  keyPrefix: string
  fields: FieldDef[]
  byName: Map<string, FieldDef>
  /** relationship name (lower case) -> reference field */
  relationships: Map<string, FieldDef>
  deletable: boolean
}

/** A custom field a test or a set-up adds to an object (the name must end in __c). */
export interface CustomFieldSpec {
  name: string
  type: FieldType
  label?: string
  length?: number
  externalId?: boolean
  unique?: boolean
  required?: boolean
  referenceTo?: string
  picklistValues?: string[]
  defaultValue?: unknown
}

type Partial2 = Partial<FieldDef> & { name: string; type: FieldType }

const TEXT_TYPES: FieldType[] = ['string', 'textarea', 'picklist', 'email', 'phone', 'url']

function field(spec: Partial2): FieldDef {
  const ro = spec.calculated || spec.autoNumber || spec.type === 'id'
  const longText = spec.type === 'textarea' && (spec.length ?? 0) > 255
  return {
    label: spec.label ?? spec.name.replace(/__c$/, '').replace(/Id$/, ' ID').replace(/_/g, ' '),
    length: spec.length ?? (TEXT_TYPES.includes(spec.type) ? 255 : spec.type === 'id' || spec.type === 'reference' ? 18 : 0),
    createable: !ro,
    updateable: !ro,
    nillable: !(spec.required || spec.type === 'boolean' || spec.type === 'id'),
    filterable: !longText,
    sortable: !longText,
    custom: spec.name.endsWith('__c'),
    ...spec
  }
}

function ref(name: string, to: string, relationshipName: string, extra: Partial<FieldDef> = {}): FieldDef {
  return field({ name, type: 'reference', referenceTo: [to], relationshipName, ...extra })
}

/** Fields every object has; the emulator sets them. */
function systemFields(): FieldDef[] {
  const sys = { createable: false, updateable: false }
  return [
    field({ name: 'Id', type: 'id', label: 'Record ID', idLookup: true }),
    field({ name: 'IsDeleted', type: 'boolean', label: 'Deleted', ...sys }),
    field({ name: 'CreatedDate', type: 'datetime', label: 'Created Date', ...sys, nillable: false }),
    ref('CreatedById', 'User', 'CreatedBy', { label: 'Created By ID', ...sys, nillable: false }),
    field({ name: 'LastModifiedDate', type: 'datetime', label: 'Last Modified Date', ...sys, nillable: false }),
    ref('LastModifiedById', 'User', 'LastModifiedBy', { label: 'Last Modified By ID', ...sys, nillable: false }),
    field({ name: 'SystemModstamp', type: 'datetime', label: 'System Modstamp', ...sys, nillable: false })
  ]
}

const BASE_OBJECTS: Array<Omit<ObjectDef, 'byName' | 'relationships' | 'fields'> & { fields: FieldDef[] }> = [
  {
    name: 'Case', label: 'Case', labelPlural: 'Cases', keyPrefix: '500', deletable: true,
    fields: [
      field({ name: 'CaseNumber', type: 'string', label: 'Case Number', length: 30, autoNumber: true, nillable: false, idLookup: true }),
      field({ name: 'Subject', type: 'string', length: 255 }),
      field({ name: 'Description', type: 'textarea', length: 32000 }),
      field({ name: 'Status', type: 'picklist', length: 40, picklistValues: ['New', 'Working', 'Escalated', 'On Hold', 'Closed'], defaultValue: 'New' }),
      field({ name: 'Priority', type: 'picklist', length: 40, picklistValues: ['High', 'Medium', 'Low'], defaultValue: 'Medium' }),
      field({ name: 'Origin', type: 'picklist', length: 40, label: 'Case Origin', picklistValues: ['Phone', 'Email', 'Web'] }),
      field({ name: 'Type', type: 'picklist', length: 40, picklistValues: ['Question', 'Problem', 'Feature Request'] }),
      field({ name: 'Reason', type: 'picklist', length: 40, picklistValues: ['Installation', 'Equipment Complexity', 'Performance', 'Breakdown', 'Other'] }),
      field({ name: 'IsClosed', type: 'boolean', label: 'Closed', calculated: true }),
      field({ name: 'ClosedDate', type: 'datetime', label: 'Closed Date', calculated: true }),
      field({ name: 'IsEscalated', type: 'boolean', label: 'Escalated', defaultValue: false }),
      field({ name: 'SuppliedName', type: 'string', length: 80, label: 'Web Name' }),
      field({ name: 'SuppliedEmail', type: 'email', length: 80, label: 'Web Email' }),
      field({ name: 'SuppliedPhone', type: 'string', length: 40, label: 'Web Phone' }),
      ref('AccountId', 'Account', 'Account'),
      ref('ContactId', 'Contact', 'Contact'),
      ref('OwnerId', 'User', 'Owner', { nillable: false }),
      ref('ProductId', 'Product2', 'Product'),
      ref('ParentId', 'Case', 'Parent'),
      field({ name: 'Portal_Ticket_Id__c', type: 'string', length: 64, label: 'Portal Ticket Id', externalId: true, unique: true, idLookup: true })
    ]
  },
  {
    name: 'CaseComment', label: 'Case Comment', labelPlural: 'Case Comments', keyPrefix: '00a', deletable: true,
    fields: [
      ref('ParentId', 'Case', 'Parent', { label: 'Parent Case ID', required: true, updateable: false, nillable: false }),
      field({ name: 'CommentBody', type: 'textarea', length: 4000, label: 'Body' }),
      field({ name: 'IsPublished', type: 'boolean', label: 'Published', defaultValue: false })
    ]
  },
  {
    name: 'Account', label: 'Account', labelPlural: 'Accounts', keyPrefix: '001', deletable: true,
    fields: [
      field({ name: 'Name', type: 'string', length: 255, label: 'Account Name', required: true, nillable: false }),
      field({ name: 'AccountNumber', type: 'string', length: 40 }),
      field({ name: 'Type', type: 'picklist', length: 40, picklistValues: ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Partner', 'Other'] }),
      field({ name: 'Industry', type: 'picklist', length: 40 }),
      field({ name: 'Phone', type: 'phone', length: 40 }),
      field({ name: 'Website', type: 'url', length: 255 }),
      field({ name: 'BillingCity', type: 'string', length: 40 }),
      field({ name: 'BillingCountry', type: 'string', length: 80 }),
      field({ name: 'NumberOfEmployees', type: 'int', label: 'Employees' }),
      field({ name: 'Description', type: 'textarea', length: 32000 }),
      ref('OwnerId', 'User', 'Owner', { nillable: false }),
      ref('ParentId', 'Account', 'Parent')
    ]
  },
  {
    name: 'Contact', label: 'Contact', labelPlural: 'Contacts', keyPrefix: '003', deletable: true,
    fields: [
      field({ name: 'FirstName', type: 'string', length: 40 }),
      field({ name: 'LastName', type: 'string', length: 80, required: true, nillable: false }),
      field({ name: 'Name', type: 'string', length: 121, label: 'Full Name', calculated: true, nillable: false }),
      field({ name: 'Email', type: 'email', length: 80 }),
      field({ name: 'Phone', type: 'phone', length: 40 }),
      field({ name: 'Title', type: 'string', length: 128 }),
      ref('AccountId', 'Account', 'Account'),
      ref('OwnerId', 'User', 'Owner', { nillable: false })
    ]
  },
  {
    name: 'User', label: 'User', labelPlural: 'Users', keyPrefix: '005', deletable: false,
    fields: [
      field({ name: 'Username', type: 'string', length: 80, required: true, nillable: false, unique: true, idLookup: true }),
      field({ name: 'FirstName', type: 'string', length: 40 }),
      field({ name: 'LastName', type: 'string', length: 80, required: true, nillable: false }),
      field({ name: 'Name', type: 'string', length: 121, label: 'Full Name', calculated: true, nillable: false }),
      field({ name: 'Email', type: 'email', length: 128, required: true, nillable: false }),
      field({ name: 'Alias', type: 'string', length: 8 }),
      field({ name: 'Title', type: 'string', length: 80 }),
      field({ name: 'Department', type: 'string', length: 80 }),
      field({ name: 'IsActive', type: 'boolean', label: 'Active', defaultValue: true }),
      field({ name: 'ProfileId', type: 'string', length: 18, label: 'Profile ID' }),
      field({ name: 'UserType', type: 'picklist', length: 40, calculated: true })
    ]
  },
  {
    name: 'Product2', label: 'Product', labelPlural: 'Products', keyPrefix: '01t', deletable: true,
    fields: [
      field({ name: 'Name', type: 'string', length: 255, label: 'Product Name', required: true, nillable: false }),
      field({ name: 'ProductCode', type: 'string', length: 255 }),
      field({ name: 'Description', type: 'textarea', length: 4000, label: 'Product Description' }),
      field({ name: 'Family', type: 'picklist', length: 40, label: 'Product Family', picklistValues: ['None'] }),
      field({ name: 'IsActive', type: 'boolean', label: 'Active', defaultValue: false })
    ]
  }
]

export type Schema = Map<string, ObjectDef>

/** Builds the schema, with any custom fields added; object names are looked up case-insensitively. */
export function buildSchema(custom: Record<string, CustomFieldSpec[]> = {}): Schema {
  const schema: Schema = new Map()
  for (const base of BASE_OBJECTS) {
    const fields = [...systemFields(), ...base.fields]
    const extra = Object.entries(custom).find(([k]) => k.toLowerCase() === base.name.toLowerCase())?.[1] ?? []
    for (const spec of extra) {
      if (!spec.name.endsWith('__c')) throw new Error(`custom field ${base.name}.${spec.name} must end in __c`)
      fields.push(field({
        name: spec.name,
        type: spec.type,
        label: spec.label,
        length: spec.length,
        externalId: spec.externalId,
        unique: spec.unique,
        idLookup: spec.externalId || spec.unique,
        required: spec.required,
        nillable: !spec.required && spec.type !== 'boolean',
        referenceTo: spec.referenceTo ? [spec.referenceTo] : undefined,
        relationshipName: spec.referenceTo ? spec.name.replace(/__c$/, '__r') : undefined,
        picklistValues: spec.picklistValues,
        defaultValue: spec.defaultValue
      }))
    }
    const byName = new Map(fields.map((f) => [f.name.toLowerCase(), f]))
    const relationships = new Map(fields.filter((f) => f.relationshipName).map((f) => [f.relationshipName!.toLowerCase(), f]))
    schema.set(base.name.toLowerCase(), { ...base, fields, byName, relationships })
  }
  return schema
}

export function objectByPrefix(schema: Schema, prefix: string): ObjectDef | undefined {
  for (const o of schema.values()) if (o.keyPrefix === prefix) return o
  return undefined
}

export function isTextType(type: FieldType): boolean {
  return TEXT_TYPES.includes(type)
}

/** The describe-lite shape of a field, as GET /sobjects/{T}/describe returns it. */
export function describeField(f: FieldDef): Record<string, unknown> {
  const soapType: Record<FieldType, string> = {
    id: 'tns:ID', reference: 'tns:ID', string: 'xsd:string', textarea: 'xsd:string', picklist: 'xsd:string',
    email: 'xsd:string', phone: 'xsd:string', url: 'xsd:string', boolean: 'xsd:boolean', datetime: 'xsd:dateTime',
    date: 'xsd:date', double: 'xsd:double', int: 'xsd:int', currency: 'xsd:double'
  }
  return {
    name: f.name,
    label: f.label,
    type: f.type,
    soapType: soapType[f.type],
    length: f.length ?? 0,
    createable: f.createable,
    updateable: f.updateable,
    nillable: f.nillable,
    defaultedOnCreate: f.defaultValue !== undefined || f.autoNumber === true || !f.createable,
    externalId: f.externalId ?? false,
    unique: f.unique ?? false,
    idLookup: f.idLookup ?? false,
    autoNumber: f.autoNumber ?? false,
    calculated: f.calculated ?? false,
    custom: f.custom,
    filterable: f.filterable,
    sortable: f.sortable,
    caseSensitive: false,
    referenceTo: f.referenceTo ?? [],
    relationshipName: f.relationshipName ?? null,
    defaultValue: f.defaultValue ?? null,
    picklistValues: (f.picklistValues ?? []).map((v) => ({ active: true, defaultValue: f.defaultValue === v, label: v, validFor: null, value: v }))
  }
}

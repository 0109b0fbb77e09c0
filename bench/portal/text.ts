// Ticket text for the benchmark: helpdesk-like titles and descriptions with a skewed word
// distribution and a long tail (codes, hosts, numbers, names), so the FTS index has a
// realistic vocabulary and common words match a realistic share of tickets.

/** Small, fast, seedable PRNG (mulberry32): the same seed gives the same database. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Picks index i of n with probability proportional to 1/(i+1)^s. */
export class Zipf {
  private readonly cdf: Float64Array
  constructor(n: number, s: number) {
    this.cdf = new Float64Array(n)
    let sum = 0
    for (let i = 0; i < n; i++) {
      sum += 1 / Math.pow(i + 1, s)
      this.cdf[i] = sum
    }
    for (let i = 0; i < n; i++) this.cdf[i] /= sum
  }

  share(i: number): number {
    return this.cdf[i] - (i > 0 ? this.cdf[i - 1] : 0)
  }

  pick(rand: () => number): number {
    const r = rand()
    let lo = 0
    let hi = this.cdf.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.cdf[mid] < r) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

// Things that break, in rough order of how often they do.
export const SUBJECTS = [
  'password', 'email', 'login', 'vpn', 'printer', 'laptop', 'outlook', 'invoice', 'account', 'report',
  'dashboard', 'wifi', 'monitor', 'license', 'calendar', 'export', 'payment', 'teams', 'phone', 'backup',
  'certificate', 'keyboard', 'browser', 'database', 'server', 'spreadsheet', 'upload', 'attachment', 'mailbox', 'headset',
  'scanner', 'refund', 'shipment', 'order', 'contract', 'integration', 'webhook', 'firewall', 'router', 'docking',
  'projector', 'badge', 'subscription', 'timesheet', 'payroll', 'onboarding', 'sharepoint', 'onedrive', 'citrix', 'sso',
  'token', 'mfa', 'notification', 'template', 'migration', 'sync', 'firmware', 'battery', 'camera', 'microphone',
  'chargeback', 'quotation', 'warehouse', 'barcode', 'kiosk', 'voicemail', 'extension', 'intranet', 'wiki', 'crm'
]

const PROBLEMS = [
  'not working', 'stopped working', 'is very slow', 'keeps crashing', 'shows an error', 'cannot be opened',
  'is missing', 'fails after the update', 'needs to be reset', 'asks for the password again', 'does not sync',
  'shows the wrong data', 'times out', 'is locked', 'is not reachable', 'prints blank pages', 'is duplicated',
  'was charged twice', 'cannot connect', 'freezes on start', 'request for access', 'needs a new license',
  'not received', 'sent to the wrong address', 'rejected by the server', 'disconnects every few minutes'
]

const PLACES = [
  'on the 3rd floor', 'in the Lisbon office', 'for the whole team', 'since this morning', 'after the weekend',
  'for new hires', 'in the warehouse', 'at the front desk', 'on my home network', 'in meeting room B',
  'for the finance department', 'since yesterday', 'on the shared drive', 'in the mobile app', 'for one customer'
]

const OPENERS = [
  'Hello team,', 'Hi,', 'Good morning,', 'Dear support,', 'Hello,', 'Hi there,', 'Olá,', 'Hello again,', '', ''
]

const SENTENCES = [
  'Since {when} the {s} {p}.',
  'When I try to use the {s} it {p} and nothing happens.',
  'Several colleagues {place} report the same problem with the {s}.',
  'The error message says "{code}: {err}".',
  'We restarted the {s2} and cleared the cache but the {s} still {p}.',
  'This blocks our {dept} team from closing the month.',
  'Could you please check the {s} for user {name}?',
  'The issue started right after the {ver} update was installed on {host}.',
  'Reference number {ref}, please see the attached screenshot.',
  'It worked fine last week and nobody changed the {s2} settings.',
  'We need this fixed before the {dept} review on {day}.',
  'Our {s2} shows {code} whenever someone opens the {s}.',
  'I already tried another {s2} and the result is the same.',
  'Please escalate, {count} people {place} are affected.',
  'The {s} {p} only for users in the {dept} group.',
  'Is there a workaround while you investigate the {s}?'
]

const ERRORS = [
  'connection refused', 'access denied', 'invalid session', 'quota exceeded', 'certificate expired', 'unknown host',
  'permission denied', 'service unavailable', 'bad gateway', 'license not found', 'disk full', 'sync conflict',
  'timeout waiting for response', 'account disabled', 'token expired', 'paper jam'
]

const WHEN = ['this morning', 'yesterday', 'Monday', 'last week', 'the update', 'the migration', 'lunch', 'the power cut', 'the office move']
const DEPTS = ['finance', 'sales', 'legal', 'logistics', 'marketing', 'support', 'engineering', 'procurement', 'HR', 'operations']
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'the 15th', 'month end', 'next week']
const FIRST = ['Ana', 'Bruno', 'Carla', 'Diego', 'Eva', 'Fabio', 'Gina', 'Hank', 'Ines', 'Joao', 'Karen', 'Luis', 'Marta',
  'Nuno', 'Olga', 'Paulo', 'Rita', 'Sofia', 'Tiago', 'Vera', 'Walter', 'Yara', 'Zoe', 'Miguel', 'Pedro', 'Sara', 'Lucas',
  'Julia', 'Rafael', 'Beatriz', 'Tom', 'Emma', 'Noah', 'Liam', 'Olivia', 'Mia', 'Ethan', 'Ava', 'Mason', 'Chloe']
const LAST = ['Silva', 'Santos', 'Oliveira', 'Souza', 'Lima', 'Pereira', 'Costa', 'Rodrigues', 'Almeida', 'Nascimento',
  'Smith', 'Johnson', 'Brown', 'Taylor', 'Walker', 'Stone', 'Price', 'Gomes', 'Martins', 'Rocha', 'Mendes', 'Ferreira',
  'Carvalho', 'Ribeiro', 'Barbosa', 'Moreira', 'Cardoso', 'Teixeira', 'Dias', 'Castro']

export const REPLIES = [
  'Thanks for reporting this, we are looking into it.',
  'Could you send us a screenshot of the error and the time it happened?',
  'We restarted the service on our side, please try again and let us know.',
  'I have escalated this to the second level team.',
  'The {s} was reconfigured, it should work now.',
  'It works again, thank you for the quick help!',
  'Still the same problem here, the {s} {p}.',
  'We found the cause: an expired certificate on {host}. It has been renewed.',
  'Please confirm which browser and version you are using.',
  'A new license was assigned to your account.',
  'We are waiting for the vendor, reference {ref}.',
  'Closing this ticket as the issue is solved. Reply if it comes back.',
  'Checked the logs on {host}: {code} at 09:14, investigating.',
  'Remote session scheduled for {day}, please keep the laptop on.'
]

export interface TextGen {
  title(): { text: string; subject: number }
  description(subject: number): string
  reply(): string
  personName(): string
}

export function textGen(rand: () => number): TextGen {
  const subjects = new Zipf(SUBJECTS.length, 0.9)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))
  // The long tail: error codes, hosts, references and versions that make most tokens rare.
  const code = () => `${pick(['E', 'ERR', 'HTTP', 'SMTP', 'X', 'SYS'])}-${int(100, 99999)}`
  const host = () => `${pick(['srv', 'db', 'app', 'fs', 'mail', 'print', 'vpn', 'dc'])}-${pick(['lis', 'sao', 'ny', 'ldn', 'poa', 'fra'])}-${int(1, 400)}`
  const ref = () => `${pick(['INV', 'PO', 'ORD', 'CTR', 'RMA', 'QT'])}-${int(2019, 2026)}-${int(1000, 999999)}`
  const ver = () => `${int(1, 24)}.${int(0, 30)}.${int(0, 99)}`
  const personName = () => `${pick(FIRST)} ${pick(LAST)}`
  const subject = () => SUBJECTS[subjects.pick(rand)]

  const fill = (template: string, s: string) => template.replace(/\{(\w+)\}/g, (_, k: string) => {
    switch (k) {
      case 's': return s
      case 's2': return subject()
      case 'p': return pick(PROBLEMS)
      case 'place': return pick(PLACES)
      case 'code': return code()
      case 'err': return pick(ERRORS)
      case 'when': return pick(WHEN)
      case 'dept': return pick(DEPTS)
      case 'name': return personName()
      case 'ver': return ver()
      case 'host': return host()
      case 'ref': return ref()
      case 'day': return pick(DAYS)
      case 'count': return String(int(2, 80))
      default: return k
    }
  })

  return {
    title() {
      const index = subjects.pick(rand)
      const s = SUBJECTS[index]
      const shape = rand()
      const cap = s[0].toUpperCase() + s.slice(1)
      const text = shape < 0.45 ? `${cap} ${pick(PROBLEMS)}`
        : shape < 0.7 ? `${cap} ${pick(PROBLEMS)} ${pick(PLACES)}`
          : shape < 0.85 ? `${cap} ${pick(PROBLEMS)}: ${code()}`
            : `${pick(['Problem with', 'Question about', 'Help with', 'Issue with', 'Request:'])} ${s} ${ref()}`
      return { text, subject: index }
    },
    description(index) {
      const s = SUBJECTS[index]
      const parts: string[] = []
      const opener = pick(OPENERS)
      if (opener) parts.push(opener)
      const n = int(2, 5)
      for (let i = 0; i < n; i++) parts.push(fill(pick(SENTENCES), s))
      parts.push(rand() < 0.6 ? `Thanks, ${pick(FIRST)}` : 'Thank you.')
      return parts.join(' ')
    },
    reply() {
      return fill(pick(REPLIES), subject())
    },
    personName
  }
}

import type { MessageCatalog } from './index.js'

const messages: MessageCatalog = {
  en: {
    'admin.title': 'Administration',
    'admin.saved': 'Saved.',
    'admin.settings.title': 'Service settings',
    'admin.settings.hint': 'occurrences via portal, closing policy, auto-closure',
    'admin.settings.occurrenceViaPortal': 'Register occurrence via portal (clients may register occurrences on tickets in progress)',
    'admin.settings.staffMayClose': 'Staff may close tickets without the requester’s acceptance',
    'admin.settings.autoCloseDays': 'Close resolved tickets automatically after this many days without an answer',
    'admin.settings.daysRange': 'Enter a whole number of days from 1 to 365.',
    'admin.sla.title': 'SLA policies',
    'admin.sla.hint': 'response and resolution targets per priority',
    'admin.sla.explain': 'Targets in minutes of calendar time. New tickets take the target of their priority; time on hold does not count.',
    'admin.sla.response': 'First response (minutes)',
    'admin.sla.resolution': 'Resolution (minutes)',
    'admin.sla.minutesRange': 'Enter a whole number of minutes (1 to 525600).',
    'admin.sla.resolutionAfterResponse': 'The resolution target cannot be shorter than the response target.',
    'survey.invalidRating': 'Choose a rating from 1 to 5.'
  },
  'pt-BR': {
    'admin.title': 'Administração',
    'admin.saved': 'Salvo.',
    'admin.settings.title': 'Configurações do serviço',
    'admin.settings.hint': 'ocorrências pelo portal, política de encerramento, encerramento automático',
    'admin.settings.occurrenceViaPortal': 'Registrar ocorrência via portal (clientes podem registrar ocorrências em chamados em andamento)',
    'admin.settings.staffMayClose': 'A equipe pode encerrar chamados sem o aceite do solicitante',
    'admin.settings.autoCloseDays': 'Encerrar automaticamente chamados resolvidos após este número de dias sem resposta',
    'admin.settings.daysRange': 'Informe um número inteiro de dias entre 1 e 365.',
    'admin.sla.title': 'Políticas de SLA',
    'admin.sla.hint': 'metas de resposta e de solução por prioridade',
    'admin.sla.explain': 'Metas em minutos corridos. Novos chamados recebem a meta da sua prioridade; o tempo em espera não conta.',
    'admin.sla.response': 'Primeira resposta (minutos)',
    'admin.sla.resolution': 'Solução (minutos)',
    'admin.sla.minutesRange': 'Informe um número inteiro de minutos (1 a 525600).',
    'admin.sla.resolutionAfterResponse': 'A meta de solução não pode ser menor que a de resposta.',
    'survey.invalidRating': 'Escolha uma nota de 1 a 5.'
  }
}

export default messages

import type { MessageCatalog } from './index.js'

// Accessibility and small screens (issue 16): the header's menu, landmark and region names.
const messages: MessageCatalog = {
  en: {
    'a11y.menu': 'Menu',
    'a11y.mainNav': 'Main',
    'a11y.tableRegion': 'Table: {name}',
    'a11y.ticketList': 'Tickets',
    'a11y.actions': 'Actions'
  },
  'pt-BR': {
    'a11y.menu': 'Menu',
    'a11y.mainNav': 'Principal',
    'a11y.tableRegion': 'Tabela: {name}',
    'a11y.ticketList': 'Chamados',
    'a11y.actions': 'Ações'
  }
}

export default messages

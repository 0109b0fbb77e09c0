import type { MessageCatalog } from './index.js'

const messages: MessageCatalog = {
  en: {},
  'pt-BR': {}
}

export default messages

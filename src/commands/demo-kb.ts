// The demo organisation's knowledge base: a few categories and published articles in English
// with their Brazilian Portuguese translations, on the problems the demo's tickets are about, and
// one internal article for staff. Written through the commands, as staff would: drafted by Ana,
// submitted, published by the admin.
import type { Db } from '../db/index.js'
import { findLogin, loadStaffActor } from '../db/people.js'
import { personWho, unwrap, type Deps } from './kernel.js'
import { addKbCategory } from './kb-categories.js'
import { createArticle, moveArticle, type ArticleInput } from './kb.js'

interface DemoArticle {
  category: 'access' | 'printing' | 'cloud' | 'billing'
  tags: string
  audience?: 'public' | 'internal'
  en: { title: string; body: string }
  /** The translation; none for the internal article. */
  pt?: { title: string; body: string }
}

const CATEGORIES = {
  access: { nameEn: 'Accounts and sign-in', namePt: 'Contas e acesso' },
  printing: { nameEn: 'Printers and scanners', namePt: 'Impressoras e scanners' },
  cloud: { nameEn: 'Casebridge Cloud', namePt: 'Casebridge Cloud' },
  billing: { nameEn: 'Billing and invoices', namePt: 'Cobrança e faturas' }
} as const

export const DEMO_ARTICLES: readonly DemoArticle[] = [
  {
    category: 'access', tags: 'password, reset, sign-in',
    en: {
      title: 'Reset a forgotten password',
      body: `If you cannot sign in because you forgot your password:

1. On the sign-in page, choose **Forgot your password?**
2. Type the e-mail address you sign in with and send the form.
3. Open the message we send you and follow its link within one hour.
4. Choose a new password of at least 12 characters.

The link works once. If the message does not arrive within a few minutes, look in your spam folder, then ask again.`
    },
    pt: {
      title: 'Redefinir uma senha esquecida',
      body: `Se você não consegue entrar porque esqueceu a senha:

1. Na página de entrada, escolha **Esqueceu a senha?**
2. Digite o e-mail com que você entra e envie o formulário.
3. Abra a mensagem que enviamos e siga o link em até uma hora.
4. Escolha uma nova senha com pelo menos 12 caracteres.

O link funciona uma vez. Se a mensagem não chegar em alguns minutos, veja a pasta de spam e peça de novo.`
    }
  },
  {
    category: 'access', tags: 'two-factor, authenticator, phone',
    en: {
      title: 'Two-factor codes rejected after changing phones',
      body: `Authenticator codes are tied to the phone the app was set up on. After moving to a new phone:

- If your authenticator app moved its accounts to the new phone, check that the phone's **clock is set automatically**: codes depend on the time.
- Otherwise sign in with one of your **recovery codes**, then set up two-factor authentication again from *My account*.

Without recovery codes, open a ticket: we confirm who you are before turning two-factor off.`
    },
    pt: {
      title: 'Códigos de dois fatores recusados depois de trocar de celular',
      body: `Os códigos do autenticador ficam ligados ao celular em que o aplicativo foi configurado. Ao trocar de celular:

- Se o aplicativo autenticador levou as contas para o celular novo, confira se o **relógio do celular está automático**: os códigos dependem da hora.
- Se não, entre com um dos seus **códigos de recuperação** e configure a autenticação em dois fatores de novo em *Minha conta*.

Sem códigos de recuperação, abra um chamado: confirmamos quem você é antes de desligar os dois fatores.`
    }
  },
  {
    category: 'printing', tags: 'printer, toner, cartridge',
    en: {
      title: 'Toner warning stays on after replacing the cartridge',
      body: `The printer counts pages from the moment a cartridge is detected. If the warning stays on:

1. Open the front cover, take the cartridge out and put it back until it **clicks**.
2. Remove any orange protective tape from the new cartridge.
3. Close the cover and wait for the printer to finish its start-up.
4. If the warning remains, reset the counter: *Menu → Maintenance → Reset toner counter*.

Third-party cartridges without a chip are not detected; use the vendor's cartridge.`
    },
    pt: {
      title: 'Aviso de toner continua depois de trocar o cartucho',
      body: `A impressora conta as páginas a partir do momento em que detecta um cartucho. Se o aviso continuar:

1. Abra a tampa da frente, tire o cartucho e coloque de volta até ouvir o **clique**.
2. Retire a fita laranja de proteção do cartucho novo.
3. Feche a tampa e espere a impressora terminar de ligar.
4. Se o aviso continuar, zere o contador: *Menu → Manutenção → Zerar contador de toner*.

Cartuchos paralelos sem chip não são detectados; use o cartucho do fabricante.`
    }
  },
  {
    category: 'printing', tags: 'scanner, blank, pdf',
    en: {
      title: 'Scanner saves blank pages',
      body: `Blank scans usually come from the glass or the settings, not from the scanner itself:

- Put the page **face down** on the glass (face up in the document feeder).
- Clean the glass and the white strip beside it with a dry cloth.
- In the scan settings, set *Blank page removal* to **Off** and the resolution to 300 dpi.

If every page is still blank, restart the scanner and try a copy: a blank copy means the lamp needs service — open a ticket.`
    },
    pt: {
      title: 'Scanner salva páginas em branco',
      body: `Digitalizações em branco costumam vir do vidro ou da configuração, não do scanner:

- Coloque a página **virada para baixo** no vidro (virada para cima no alimentador).
- Limpe o vidro e a faixa branca ao lado com um pano seco.
- Na configuração da digitalização, deixe *Remover páginas em branco* **desligado** e a resolução em 300 dpi.

Se todas as páginas continuarem em branco, reinicie o scanner e tente uma cópia: cópia em branco quer dizer que a lâmpada precisa de manutenção — abra um chamado.`
    }
  },
  {
    category: 'cloud', tags: 'export, timeout, csv',
    en: {
      title: 'Cloud console export times out',
      body: `Exports of more than about 100,000 rows can take longer than the console waits.

- Narrow the export with the **date filter** (one month at a time) and export each part.
- Or choose **Export in the background**: you get an e-mail with the download link when the file is ready.

An export that fails for a small range is a fault on our side: open a ticket with the time you tried.`
    },
    pt: {
      title: 'Exportação do console da nuvem expira',
      body: `Exportações com mais de cerca de 100.000 linhas podem demorar mais do que o console espera.

- Reduza a exportação com o **filtro de data** (um mês por vez) e exporte cada parte.
- Ou escolha **Exportar em segundo plano**: você recebe um e-mail com o link quando o arquivo estiver pronto.

Uma exportação que falha para um período pequeno é uma falha nossa: abra um chamado com o horário da tentativa.`
    }
  },
  {
    category: 'billing', tags: 'invoice, credit note, billing',
    en: {
      title: 'A credit note is missing from the invoice list',
      body: `Credit notes appear in the invoice list once they are **issued**, usually within two working days of being agreed.

- Set the list's filter to *All documents*: the default shows invoices only.
- A credit note is listed under the month it was issued, not the month of the invoice it corrects.

Still missing after two working days? Open a ticket with the invoice number.`
    },
    pt: {
      title: 'Nota de crédito não aparece na lista de faturas',
      body: `As notas de crédito aparecem na lista de faturas quando são **emitidas**, normalmente em até dois dias úteis depois do acordo.

- Mude o filtro da lista para *Todos os documentos*: o padrão mostra só faturas.
- A nota de crédito fica no mês em que foi emitida, não no mês da fatura que ela corrige.

Ainda não aparece depois de dois dias úteis? Abra um chamado com o número da fatura.`
    }
  },
  {
    category: 'access', tags: 'two-factor, identity, procedure', audience: 'internal',
    en: {
      title: 'Turning off a client\'s two-factor authentication (staff procedure)',
      body: `Before turning off two-factor authentication for a client who lost their phone and recovery codes:

1. Call the client back on the phone number in the CRM, never one given in the ticket.
2. Ask their account manager to confirm the request in the ticket.
3. Only then turn it off from the admin pages, and add an internal note saying who confirmed.`
    }
  }
]

/** Adds the demo's categories and articles (published by the admin); returns the articles' ids. */
export async function seedDemoKnowledge(db: Db, deps: Deps, authorId: number): Promise<number[]> {
  const adminLogin = await findLogin(db, 'admin@casebridge.test')
  if (adminLogin?.kind !== 'staff') return []
  const admin = personWho((await loadStaffActor(db, adminLogin.id))!)
  const author = personWho((await loadStaffActor(db, authorId))!)
  const categories = new Map<string, number>()
  for (const [key, names] of Object.entries(CATEGORIES)) {
    categories.set(key, unwrap(await addKbCategory(deps, admin, { ...names, parentId: null, position: categories.size })).id)
  }
  const ids: number[] = []
  const publish = async (input: ArticleInput) => {
    const { id } = unwrap(await createArticle(deps, author, input))
    unwrap(await moveArticle(deps, author, id, 'submit'))
    unwrap(await moveArticle(deps, admin, id, 'publish'))
    ids.push(id)
    return id
  }
  for (const a of DEMO_ARTICLES) {
    const common = { tags: a.tags, categoryId: categories.get(a.category)!, audience: a.audience ?? 'public', accountIds: [], note: null }
    const original = await publish({ ...common, language: 'en', title: a.en.title, body: a.en.body, translationOf: null })
    if (a.pt) await publish({ ...common, language: 'pt-BR', title: a.pt.title, body: a.pt.body, translationOf: original })
  }
  return ids
}

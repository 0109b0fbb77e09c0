// How a search's words are looked for at scale: counting a prefix's articles from the sorted
// vocabulary, and choosing which words are looked for everywhere within the match budget.
import t from 'tap'
import { chooseTerms, Vocabulary } from '../../src/domain/kb-terms.js'

t.test('a prefix counts the articles of every word starting with it', async (t) => {
  const v = new Vocabulary([
    { term: 'print', docs: 4 }, { term: 'printer', docs: 10 }, { term: 'printing', docs: 3 }, { term: 'prism', docs: 7 },
    { term: 'Impressão', docs: 5 }, { term: 'impressora', docs: 2 }, { term: 'zebra', docs: 1 }
  ])
  t.equal(v.articlesWithPrefix('print'), 17, 'print, printer, printing')
  t.equal(v.articlesWithPrefix('printe'), 10)
  t.equal(v.articlesWithPrefix('pri'), 24, 'prism too')
  t.equal(v.articlesWithPrefix('IMPRES'), 7, 'folded: accents and capitals ignored')
  t.equal(v.articlesWithPrefix('zebras'), 0)
  t.equal(v.articlesWithPrefix('zz'), 0, 'after the last word')
  t.equal(v.articlesWithPrefix('a'), 0, 'before the first word')
  t.equal(v.articlesWith('print'), 4, 'the word alone')
  t.ok(v.hasPrefix('Printi'))
})

t.test('the rarest words are looked for everywhere within the budget; the others in titles and tags', async (t) => {
  const limits = { budget: 1000, prefixLimit: 250 }
  const pick = (words: [string, number, number][]) => chooseTerms(words.map(([word, articles, withLonger]) => ({ word, articles, withLonger })), limits)
  t.same(pick([['toner', 12, 15], ['fuser', 3, 3]]), [
    { word: 'toner', prefix: true, everywhere: true }, { word: 'fuser', prefix: true, everywhere: true }
  ], 'a small base: every word everywhere, longer words too')
  t.same(pick([['con', 40, 3000], ['printer', 600, 650]]), [
    { word: 'con', prefix: false, everywhere: true }, { word: 'printer', prefix: false, everywhere: true }
  ], 'a prefix shared by many articles matches the word alone when articles use it')
  t.same(pick([['printer', 600, 650], ['offline', 300, 300], ['driver', 200, 220]]), [
    { word: 'printer', prefix: false, everywhere: false }, { word: 'offline', prefix: false, everywhere: true }, { word: 'driver', prefix: true, everywhere: true }
  ], 'over the budget: the commonest word only in titles and tags')
  t.same(pick([['network', 2000, 2100], ['wifi', 1500, 1500]]), [
    { word: 'network', prefix: false, everywhere: false }, { word: 'wifi', prefix: false, everywhere: true }
  ], 'the rarest word is always looked for everywhere, even over the budget')
  t.same(pick([['qwzx', 0, 0], ['network', 2000, 2100], ['wifi', 1500, 1500]]).map((w) => w.everywhere), [true, false, true],
    'a word no article uses costs nothing and does not count as the rarest')
  t.same(pick([['netw', 0, 900]]), [{ word: 'netw', prefix: true, everywhere: true }], 'a word still being typed matches the longer words')
})

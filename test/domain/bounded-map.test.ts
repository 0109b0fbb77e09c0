// The bounded map behind the statement cache and the remembered answers of lists and dates.
//   npx tap test/domain/bounded-map.test.ts
import t from 'tap'
import { BoundedMap } from '../../src/domain/bounded-map.js'

t.test('never more than its bound; setting a key again makes it the newest; the oldest goes first', async (t) => {
  const map = new BoundedMap<string, number>(2)
  map.set('a', 1)
  map.set('b', 2)
  map.set('a', 3)
  map.set('c', 4)
  t.equal(map.size, 2)
  t.equal(map.get('b'), undefined, 'b was the oldest set')
  t.same([map.get('a'), map.get('c')], [3, 4])
  map.get('a')
  map.set('d', 5)
  t.equal(map.get('a'), undefined, 'reading does not renew: a was still the oldest set')
  map.clear()
  t.equal(map.size, 0)
})

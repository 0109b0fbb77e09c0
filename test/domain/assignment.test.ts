import t from 'tap'
import { pickLeastLoaded, type Candidate } from '../../src/domain/assignment.js'

const c = (staffId: number, openCount: number): Candidate => ({ staffId, openCount })
/** A random source that always answers `x`. */
const fixed = (x: number) => () => x

const cases: { name: string; candidates: Candidate[]; random: number; expect: number | null }[] = [
  { name: 'nobody to pick', candidates: [], random: 0.5, expect: null },
  { name: 'a single candidate', candidates: [c(7, 12)], random: 0.99, expect: 7 },
  { name: 'the fewest open tickets wins', candidates: [c(1, 3), c(2, 1), c(3, 9)], random: 0.99, expect: 2 },
  { name: 'zero counts like any number', candidates: [c(1, 4), c(2, 0)], random: 0, expect: 2 },
  { name: 'order does not matter', candidates: [c(3, 9), c(2, 1), c(1, 3)], random: 0, expect: 2 },
  { name: 'tie: random 0 takes the first tied', candidates: [c(1, 2), c(2, 5), c(3, 2), c(4, 2)], random: 0, expect: 1 },
  { name: 'tie: random 0.34 takes the second tied', candidates: [c(1, 2), c(2, 5), c(3, 2), c(4, 2)], random: 0.34, expect: 3 },
  { name: 'tie: random just below 1 takes the last tied', candidates: [c(1, 2), c(2, 5), c(3, 2), c(4, 2)], random: 0.999999, expect: 4 },
  { name: 'tie: a random source answering 1 stays in range', candidates: [c(1, 0), c(2, 0)], random: 1, expect: 2 },
  { name: 'the untied heavier candidate is never drawn', candidates: [c(1, 6), c(2, 6), c(3, 7)], random: 0.999, expect: 2 }
]

for (const k of cases) {
  t.equal(pickLeastLoaded(k.candidates, fixed(k.random)), k.expect, k.name)
}

t.test('ties are broken by the injected random source, evenly', async (t) => {
  const tied = [c(10, 1), c(20, 1), c(30, 1), c(40, 8)]
  const seen = new Map<number | null, number>()
  let i = 0
  // A deterministic sweep over [0, 1): each tied candidate should get an equal share.
  const sweep = () => (i++ % 300) / 300
  for (let n = 0; n < 300; n++) {
    const id = pickLeastLoaded(tied, sweep)
    seen.set(id, (seen.get(id) ?? 0) + 1)
  }
  t.same(Object.fromEntries(seen), { 10: 100, 20: 100, 30: 100 })
})

t.test('repeated picks with loads updated level the candidates', async (t) => {
  const loads = new Map([[1, 0], [2, 3], [3, 5], [4, 9]])
  let seed = 42
  const lcg = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  for (let n = 0; n < 200; n++) {
    const id = pickLeastLoaded([...loads].map(([staffId, openCount]) => ({ staffId, openCount })), lcg)!
    loads.set(id, loads.get(id)! + 1)
  }
  const counts = [...loads.values()]
  t.ok(Math.max(...counts) - Math.min(...counts) <= 1, `loads end level: ${counts.join(', ')}`)
})

t.test('uses Math.random when no source is given', async (t) => {
  t.equal(pickLeastLoaded([c(5, 0)]), 5)
  t.ok([1, 2].includes(pickLeastLoaded([c(1, 0), c(2, 0)])!))
})

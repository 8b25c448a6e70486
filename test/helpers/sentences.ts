/** Common English words the bundled model knows, for generated memories that vector search can tell apart. */
const WORDS = `apple river mountain garden kitchen window doctor teacher engine bridge forest ocean castle village market
letter camera guitar piano violin coffee bread cheese butter honey pepper salt sugar lemon orange tomato potato carrot
onion garlic chicken fish horse tiger lion eagle rabbit mouse dragon robot rocket planet comet moon star sun cloud
storm rain snow winter summer autumn spring morning evening midnight holiday birthday wedding concert festival museum
library school college office factory hospital airport station harbor island desert valley canyon volcano glacier
lake pond meadow farm barn tractor bicycle train truck boat ship plane helmet jacket shirt shoes boots hat scarf
glove blanket pillow candle lamp mirror clock radio phone laptop printer keyboard screen battery wallet ticket passport
map compass lantern ladder hammer nail saw drill paint brush canvas poem novel story song dance movie theater stadium
soccer tennis chess puzzle riddle secret treasure crystal diamond silver gold copper iron marble granite`.split(/\s+/);

/** The benchmark's seeded PRNG (mulberry32), so generated test data is the same on every run. */
export { seeded as seededRandom } from '../../scripts/bench/data.js';

/** A sentence of `count` distinct words drawn by `random`: distinct sentences embed to distinct vectors. */
export function sentence(random: () => number, count = 7): string {
  const picked = new Set<string>();
  while (picked.size < count) picked.add(WORDS[Math.floor(random() * WORDS.length)]!);
  return [...picked].join(' ');
}

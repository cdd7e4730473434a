/** A seedable random source and the distributions the planner draws from: the same seed gives the same run. */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: a small, fast 32-bit generator, good enough for a simulation and reproducible from its seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A positive duration in seconds, drawn or fixed. */
export type Distribution =
  | { readonly kind: 'fixed'; readonly seconds: number }
  | { readonly kind: 'exponential'; readonly meanS: number }
  /** Log-normal given by its median and 95th percentile (a fixed value when they are equal). */
  | { readonly kind: 'lognormal'; readonly p50S: number; readonly p95S: number };

const Z95 = 1.6448536269514722;

/** One draw of `distribution`, in seconds. */
export function draw(distribution: Distribution, random: Random): number {
  switch (distribution.kind) {
    case 'fixed':
      return distribution.seconds;
    case 'exponential':
      return -distribution.meanS * Math.log(1 - random());
    case 'lognormal': {
      const sigma = Math.log(distribution.p95S / distribution.p50S) / Z95;
      return distribution.p50S * Math.exp(sigma * standardNormal(random));
    }
    default: {
      const unknown: never = distribution;
      throw new Error(`unknown distribution ${JSON.stringify(unknown)}`);
    }
  }
}

/** Box-Muller: one standard normal draw from two uniform ones. */
function standardNormal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The p-quantile (0..1) of `values` by the nearest rank; 0 for none. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1]!;
}

/** Two-proportion z-test (pooled), two-sided: is the conversion rate of a different from b's? */
export interface ZTest {
  z: number | null;
  pValue: number | null;
  significant: boolean;
}

export function twoProportionZTest(convA: number, nA: number, convB: number, nB: number, alpha = 0.05): ZTest {
  if (nA <= 0 || nB <= 0) return { z: null, pValue: null, significant: false };
  const pA = convA / nA;
  const pB = convB / nB;
  const pooled = (convA + convB) / (nA + nB);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  if (se === 0) return { z: null, pValue: null, significant: false };
  const z = (pA - pB) / se;
  const pValue = 2 * (1 - normalCdf(Math.abs(z)));
  return { z: round(z, 4), pValue: round(pValue, 6), significant: pValue < alpha };
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

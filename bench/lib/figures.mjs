// How a benchmark hands a figure to the report: one `FIGURE {json}` line on stdout, which
// bench/run.mjs collects into the summary table of bench/REPORT.md. The human-readable lines a
// benchmark prints stay as they are; this only adds the machine-readable copy.

/**
 * @param {object} f
 * @param {string} f.area       the service or part measured, e.g. 'ingestion'
 * @param {string} f.name       what was measured, e.g. '/v1/batch accepted and stored'
 * @param {number} f.value      the measured number
 * @param {string} f.unit       e.g. 'events/s', 'ms'
 * @param {{ op: '>=' | '<=', value: number }} [f.target]  the target, if it sets one
 * @param {{ name: string, value: number, unit: string }} [f.raw]  the raw limit measured in the same run
 */
export function figure(f) {
  console.log(`FIGURE ${JSON.stringify(f)}`);
}

export function parseFigure(line) {
  if (!line.startsWith('FIGURE ')) return undefined;
  try {
    return JSON.parse(line.slice('FIGURE '.length));
  } catch {
    return undefined;
  }
}

export function verdict(f) {
  if (!f.target) return '';
  const met = f.target.op === '>=' ? f.value >= f.target.value : f.value <= f.target.value;
  return met ? 'met' : 'not met';
}

const number = (v) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en') : Number(v.toFixed(2)).toLocaleString('en'));

/** One Markdown table row per figure. */
export function figureRow(f) {
  const target = f.target ? `${f.target.op === '>=' ? '≥' : '≤'} ${number(f.target.value)} ${f.unit}` : '';
  const raw = f.raw ? `${f.raw.name}: ${number(f.raw.value)} ${f.raw.unit}` : '';
  // A share of the raw rate reads well for throughputs; for latencies it does not.
  const share = f.raw && f.raw.unit === f.unit && f.unit.endsWith('/s') && f.raw.value ? ` (${Math.round((f.value / f.raw.value) * 100)}% of raw)` : '';
  return `| ${f.area} | ${f.name} | ${number(f.value)} ${f.unit}${share} | ${target} | ${raw} | ${verdict(f)} |`;
}

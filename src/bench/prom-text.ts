/**
 * A parser for the Prometheus text exposition format (what `GET /metrics`
 * returns), just enough for the load generator: samples with labels and
 * values. Comments (`# HELP`, `# TYPE`) and blank lines are skipped;
 * timestamps after the value are ignored.
 */

export interface PromSample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text); // NaN stays NaN
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = LABEL.exec(text)) !== null) labels[m[1]!] = unescape(m[2]!);
  return labels;
}

/** Every sample in `text`, in order. Lines that are not samples are skipped. */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    out.push({ name: m[1]!, labels: m[3] !== undefined ? parseLabels(m[3]) : {}, value: parseValue(m[4]!) });
  }
  return out;
}

/** A scrape, indexed for the few look-ups the bench does. */
export class MetricsSnapshot {
  constructor(readonly samples: readonly PromSample[]) {}

  static parse(text: string): MetricsSnapshot {
    return new MetricsSnapshot(parsePrometheusText(text));
  }

  /**
   * Several instances' scrapes as one fleet's: samples of the same name and
   * labels are added (counters, histogram buckets, gauges of amounts), except
   * names with `_max` in them, which take the largest (the worst instance's
   * lag). A sample present in only some scrapes is kept as it is.
   */
  static merge(snapshots: readonly MetricsSnapshot[]): MetricsSnapshot {
    if (snapshots.length === 1) return snapshots[0]!;
    const merged = new Map<string, PromSample>();
    for (const snap of snapshots) {
      for (const s of snap.samples) {
        const key = `${s.name}{${Object.entries(s.labels)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}}`;
        const had = merged.get(key);
        if (had === undefined) merged.set(key, { ...s });
        else had.value = s.name.includes('_max') ? Math.max(had.value, s.value) : had.value + s.value;
      }
    }
    return new MetricsSnapshot([...merged.values()]);
  }

  /** The first sample of `name` whose labels include `labels`; undefined when absent. */
  value(name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
    for (const s of this.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
    return undefined;
  }

  /** Every sample of `name`, keyed by the value of label `label`. */
  byLabel(name: string, label: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.samples) {
      const key = s.labels[label];
      if (s.name === name && key !== undefined) out.set(key, s.value);
    }
    return out;
  }

  /** The cumulative buckets of histogram `name` (`<name>_bucket{le}`), sorted by upper bound. */
  histogram(name: string): HistogramBuckets | undefined {
    const buckets: { le: number; count: number }[] = [];
    for (const s of this.samples) {
      const le = s.labels['le'];
      if (s.name === `${name}_bucket` && le !== undefined) buckets.push({ le: parseValue(le), count: s.value });
    }
    if (buckets.length === 0) return undefined;
    buckets.sort((a, b) => a.le - b.le);
    return buckets;
  }
}

/** Cumulative histogram buckets: `count` observations ≤ `le` (seconds, as Prometheus has them). */
export type HistogramBuckets = readonly { le: number; count: number }[];

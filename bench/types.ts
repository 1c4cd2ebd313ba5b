// What each part of `npm run bench` returns: rows for the printed table, and the raw data
// for bench/results.json.

/** One row of the printed table. */
export interface BenchRow {
  /** The table section: 'size', 'cross-tab', 'expiry', 'start-up', 'activity', 'leaks', 'companion'. */
  readonly section: string;
  /** What was measured, e.g. 'oidc-session-guard eager' or 'sign-out, 20 tabs'. */
  readonly name: string;
  /** The figures, already formatted, e.g. { gzip: '10,222 B', brotli: '9,100 B' } or { p50: '4.1 ms' }. */
  readonly values: Readonly<Record<string, string>>;
  /** A short remark: a goal met or missed, what the peer is. */
  readonly note?: string;
}

/** What one part returns. */
export interface BenchPart {
  readonly rows: readonly BenchRow[];
  /** Everything measured, unformatted (numbers in bytes or milliseconds), for results.json. */
  readonly raw: unknown;
}

/** Percentile of sorted numbers (nearest rank). */
export const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

/** "1,234 B" */
export const bytes = (n: number): string => `${Math.round(n).toLocaleString('en-US')} B`;

/** "12.3 ms" */
export const ms = (n: number): string => `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`;

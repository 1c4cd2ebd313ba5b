// `npm run bench`: every figure in one run on one machine, beside the alternatives. Prints
// one table and writes bench/results.json. Not part of `npm test` (it takes minutes and its
// figures depend on the machine); the size budget stays in `npm test` (test/size).
import { writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem, type as osType, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchBrowser } from './browser.js';
import { benchCompanion } from './companion.js';
import { benchSizes } from './sizes.js';
import type { BenchPart, BenchRow } from './types.js';

const started = Date.now();
const log = (line: string) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0)} s] ${line}`);

const parts: Record<string, BenchPart> = {};
log('bundle sizes');
parts.sizes = await benchSizes();
log('the browser: cross-tab latency, expiry, start-up, activity, leaks');
parts.browser = await benchBrowser(log);
log('the companion: fan-out through Redis, logout tokens, memory');
parts.companion = await benchCompanion();

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  freeMemoryGiB: Math.round(freemem() / 2 ** 30),
  os: `${osType()} ${release()}`,
  node: process.version,
  chromium: (parts.browser.raw as { chromium?: string }).chromium ?? 'unknown',
  date: new Date().toISOString(),
  seconds: Math.round((Date.now() - started) / 1000),
};

/** The rows of one section as a Markdown table (the README takes it as it is). */
function table(rows: readonly BenchRow[]): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row.values)))];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(['', ...columns, 'note']),
    line(['---', ...columns.map(() => '---:'), '---']),
    ...rows.map((row) => line([row.name, ...columns.map((c) => row.values[c] ?? ''), row.note ?? ''])),
  ].join('\n');
}

const rows = Object.values(parts).flatMap((part) => part.rows);
const sections = [...new Set(rows.map((row) => row.section))];
const output = [
  `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; ${machine.os}; Node ${machine.node}; Chromium ${machine.chromium}; ${machine.date}; ${machine.seconds} s`,
  ...sections.map((section) => `\n### ${section}\n\n${table(rows.filter((row) => row.section === section))}`),
].join('\n');
console.log(output);

const file = fileURLToPath(new URL('./results.json', import.meta.url));
writeFileSync(file, `${JSON.stringify({ machine, rows, raw: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.raw])) }, null, 2)}\n`);
log(`wrote ${file}`);

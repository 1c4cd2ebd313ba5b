import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

it('every test that docs/compliance.md names exists in the suite', () => {
  const doc = readFileSync(root('docs/compliance.md'), 'utf8');
  const sources = ['test/unit', 'test/e2e']
    .flatMap((dir) => readdirSync(root(dir)).filter((f) => /\.(test|spec)\.ts$/.test(f)).map((f) => readFileSync(root(`${dir}/${f}`), 'utf8')))
    .join('\n');
  const named = [...doc.matchAll(/›\s*"((?:[^"\\]|\\.)+)"/g)].map((m) => (m[1] as string).replace(/\\"/g, '"'));
  expect(named.length).toBeGreaterThan(20);
  const missing = named.filter((name) => !sources.includes(name));
  expect(missing).toEqual([]);
});

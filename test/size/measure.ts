// Measures the package as an app's bundler sees it: esbuild bundles, minifies and splits
// `import { createSession } from 'oidc-session-guard'` (the built package, through its
// exports map), and each output chunk is gzipped at level 9.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

export interface Chunk {
  readonly file: string;
  readonly bytes: number;
  readonly gzip: number;
  /** The node_modules packages (or 'oidc-session-guard') whose code is in the chunk. */
  readonly packages: readonly string[];
}

export interface SizeReport {
  /** The entry chunk and every chunk it imports statically: what a page loads at once. */
  readonly eager: readonly Chunk[];
  /** Chunks loaded by a dynamic import(), when needed. */
  readonly lazy: readonly Chunk[];
  readonly eagerGzip: number;
  readonly totalGzip: number;
}

/** The package an input file belongs to: the name after its last node_modules/. */
const packageOf = (input: string): string => {
  const matches = [...input.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  return matches.at(-1)?.[1] ?? 'oidc-session-guard';
};

/** Bundles `source` (an app's entry module) against the built package at `root`. */
export async function measure(source: string, root = resolve(import.meta.dirname, '../..')): Promise<SizeReport> {
  const dir = mkdtempSync(join(tmpdir(), 'osg-size-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'oidc-session-guard'), 'dir');
    writeFileSync(join(dir, 'app.js'), source);
    const result = await esbuild.build({
      entryPoints: [join(dir, 'app.js')],
      bundle: true, minify: true, splitting: true, format: 'esm', platform: 'browser',
      outdir: join(dir, 'out'), write: false, metafile: true, logLevel: 'silent',
      // Paths through the link, not the checkout's real path: chunk names (and so the bytes)
      // must not depend on where the project lies.
      preserveSymlinks: true, absWorkingDir: dir,
    });
    const chunks = new Map<string, Chunk & { imports: { path: string; kind: string }[]; entry: boolean }>();
    for (const file of result.outputFiles) {
      if (!file.path.endsWith('.js')) continue;
      const key = file.path.slice(dir.length + 1);
      const meta = result.metafile.outputs[key]!;
      chunks.set(key, {
        file: key, bytes: file.contents.length, gzip: gzipSync(file.contents, { level: 9 }).length,
        packages: [...new Set(Object.keys(meta.inputs).map(packageOf))].sort(),
        imports: meta.imports, entry: meta.entryPoint === 'app.js',
      });
    }
    const eager = new Set<string>();
    const visit = (key: string) => {
      if (eager.has(key)) return;
      eager.add(key);
      for (const imported of chunks.get(key)!.imports) if (imported.kind === 'import-statement') visit(imported.path);
    };
    for (const [key, chunk] of chunks) if (chunk.entry) visit(key);
    const strip = ({ file, bytes, gzip, packages }: Chunk): Chunk => ({ file, bytes, gzip, packages });
    const all = [...chunks.values()];
    const eagerChunks = all.filter((c) => eager.has(c.file)).map(strip);
    const lazyChunks = all.filter((c) => !eager.has(c.file)).map(strip);
    const sum = (list: readonly Chunk[]) => list.reduce((n, c) => n + c.gzip, 0);
    return { eager: eagerChunks, lazy: lazyChunks, eagerGzip: sum(eagerChunks), totalGzip: sum(eagerChunks) + sum(lazyChunks) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

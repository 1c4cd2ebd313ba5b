// Measures the package as an app's bundler sees it: esbuild bundles, minifies and splits
// `import { createSession } from 'oidc-session-guard'` (the built package, through its
// exports map), and each output chunk is gzipped at level 9 and brotli-compressed at
// quality 11. bench/sizes.ts measures the peers' packages the same way.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

export interface Chunk {
  readonly file: string;
  readonly bytes: number;
  readonly gzip: number;
  readonly brotli: number;
  /** The node_modules packages whose code is in the chunk ('oidc-session-guard' for the built package). */
  readonly packages: readonly string[];
}

export interface SizeReport {
  /** The entry chunk and every chunk it imports statically: what a page loads at once. */
  readonly eager: readonly Chunk[];
  /** Chunks loaded by a dynamic import(), when needed. */
  readonly lazy: readonly Chunk[];
  readonly eagerGzip: number;
  readonly totalGzip: number;
  readonly eagerBrotli: number;
  readonly totalBrotli: number;
}

export interface MeasureOptions {
  /** The checkout that the app's `oidc-session-guard` imports resolve to. */
  readonly root?: string;
  /**
   * Where the app's temporary folder is made. Bare imports other than oidc-session-guard
   * resolve through the node_modules folders above it: other packages (the peers measured
   * by bench/sizes.ts) are found from inside the checkout, not from the system's temp
   * folder, the default.
   */
  readonly parent?: string;
  /** Packages the app's page already has, left out of the bundle (react for the hooks). */
  readonly external?: readonly string[];
}

/**
 * The package an input file belongs to: the name after its last node_modules/ (the built
 * package too, through its link). None for the app's own entry, which is in no package.
 */
const packagesOf = (input: string): string[] => {
  const matches = [...input.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  return matches.slice(-1).map((match) => match[1]!);
};

/** Compressed sizes of one file, as a server would send it. */
export const compressed = (contents: Uint8Array): { gzip: number; brotli: number } => ({
  gzip: gzipSync(contents, { level: 9 }).length,
  brotli: brotliCompressSync(contents, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});

/** Bundles `source` (an app's entry module) against the built package at `root`. */
export async function measure(source: string, options: MeasureOptions = {}): Promise<SizeReport> {
  const { root = resolve(import.meta.dirname, '../..'), parent = tmpdir(), external = [] } = options;
  const dir = mkdtempSync(join(parent, 'osg-size-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'oidc-session-guard'), 'dir');
    // The app is a package of its own. Without one, inside the checkout the import would
    // resolve to the checkout's own package.json (a self-reference), through its real path
    // and not the link, and the chunk names would change.
    writeFileSync(join(dir, 'package.json'), '{ "name": "app", "private": true }\n');
    writeFileSync(join(dir, 'app.js'), source);
    const result = await esbuild.build({
      entryPoints: [join(dir, 'app.js')],
      bundle: true, minify: true, splitting: true, format: 'esm', platform: 'browser',
      outdir: join(dir, 'out'), write: false, metafile: true, logLevel: 'silent',
      external: [...external],
      // Paths through the link, not the checkout's real path: chunk names (and so the bytes)
      // must not depend on where the project lies.
      preserveSymlinks: true, absWorkingDir: dir,
      // No tsconfig.json from the folders above: inside the checkout, the project's `paths`
      // would send `oidc-session-guard` to src/ instead of the built package.
      tsconfigRaw: {},
    });
    const chunks = new Map<string, Chunk & { imports: esbuild.Metafile['outputs'][string]['imports']; entry: boolean }>();
    for (const file of result.outputFiles) {
      if (!file.path.endsWith('.js')) continue;
      const key = file.path.slice(dir.length + 1);
      const meta = result.metafile.outputs[key]!;
      chunks.set(key, {
        file: key, bytes: file.contents.length, ...compressed(file.contents),
        packages: [...new Set(Object.keys(meta.inputs).flatMap(packagesOf))].sort(),
        imports: meta.imports, entry: meta.entryPoint === 'app.js',
      });
    }
    const eager = new Set<string>();
    const visit = (key: string) => {
      if (eager.has(key)) return;
      eager.add(key);
      // External imports (react) are no chunk of ours: the page has them already.
      for (const imported of chunks.get(key)!.imports) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    };
    for (const [key, chunk] of chunks) if (chunk.entry) visit(key);
    const strip = ({ file, bytes, gzip, brotli, packages }: Chunk): Chunk => ({ file, bytes, gzip, brotli, packages });
    const all = [...chunks.values()];
    const eagerChunks = all.filter((c) => eager.has(c.file)).map(strip);
    const lazyChunks = all.filter((c) => !eager.has(c.file)).map(strip);
    const sum = (list: readonly Chunk[], of: 'gzip' | 'brotli') => list.reduce((n, c) => n + c[of], 0);
    return {
      eager: eagerChunks, lazy: lazyChunks,
      eagerGzip: sum(eagerChunks, 'gzip'), totalGzip: sum(eagerChunks, 'gzip') + sum(lazyChunks, 'gzip'),
      eagerBrotli: sum(eagerChunks, 'brotli'), totalBrotli: sum(eagerChunks, 'brotli') + sum(lazyChunks, 'brotli'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

import * as esbuild from 'esbuild';
import { readFileSync } from 'node:fs';
const r = await esbuild.transform(readFileSync(process.argv[2], 'utf8'), { minify: true, format: 'esm' });
console.log(r.code);

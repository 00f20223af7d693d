// Bundles the console's browser code (src/console/web) with esbuild into dist/console/web, with an index.html.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface WebBuildResult {
  outDir: string;
  files: Array<{ file: string; bytes: number }>;
  ms: number;
}

/** esbuild's options for a browser bundle of the console's code (the app, and the plugin test's host page). */
export const BROWSER_BUNDLE = {
  bundle: true,
  format: 'esm',
  target: 'es2020',
  entryNames: '[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  // PatternFly's stylesheets point at its fonts and images: they are copied next to the bundle.
  loader: { '.woff2': 'file', '.woff': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file', '.png': 'file', '.jpg': 'file', '.gif': 'file' },
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  logLevel: 'warning',
} as const;

export async function buildWeb(options: { outDir?: string; minify?: boolean } = {}): Promise<WebBuildResult> {
  // esbuild is a build-time dependency: loaded here only, never by the server.
  const { build } = await import('esbuild');
  const started = Date.now();
  const srcDir = fileURLToPath(new URL('../../src/console/web/', import.meta.url));
  const outDir = options.outDir ?? fileURLToPath(new URL('./web/', import.meta.url));
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    ...BROWSER_BUNDLE,
    entryPoints: { app: join(srcDir, 'index.tsx') },
    minify: options.minify ?? true,
    outdir: outDir,
    legalComments: 'none',
  });
  const outputs = Object.entries(result.metafile.outputs).map(([file, o]) => ({ file: file.startsWith('/') ? file : join(process.cwd(), file), bytes: o.bytes }));
  const js = outputs.find((o) => /app-[^/]+\.js$/.test(o.file));
  const css = outputs.find((o) => /app-[^/]+\.css$/.test(o.file));
  if (!js) throw new Error('esbuild produced no app bundle');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trellis console</title>
${css ? `<link rel="stylesheet" href="/${basename(css.file)}">` : ''}
<script type="module" src="/${basename(js.file)}"></script>
</head>
<body><div id="root"></div></body>
</html>
`;
  await writeFile(join(outDir, 'index.html'), html);
  return { outDir, files: outputs, ms: Date.now() - started };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildWeb().then(
    (r) => {
      const total = r.files.reduce((a, f) => a + f.bytes, 0);
      const js = r.files.filter((f) => f.file.endsWith('.js')).reduce((a, f) => a + f.bytes, 0);
      process.stdout.write(`console web bundle: ${(js / 1024).toFixed(0)} KiB js, ${(total / 1024).toFixed(0)} KiB in all, ${r.ms} ms\n`);
    },
    (err) => {
      process.stderr.write(`console web bundle failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}

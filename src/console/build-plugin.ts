// Builds the OpenShift console plugin with Red Hat's SDK tooling: webpack and ConsoleRemotePlugin (module federation,
// the console's shared modules, plugin-manifest.json), TypeScript through esbuild-loader. Output: dist/console/plugin,
// with the ConsolePlugin resource beside it. webpack's filesystem cache makes a rebuild of unchanged sources quick.

import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import Module, { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { consolePluginResource, EXTENSIONS, PLUGIN_METADATA } from './plugin-metadata.js';

const require = createRequire(import.meta.url);

/**
 * The SDK's webpack tooling reads PatternFly's dynamic-module indexes with TypeScript's compiler API (its peer
 * dependency, `typescript >=5.9.3`). This repository compiles with TypeScript 7, which has no such API, so the SDK's
 * `require('typescript')` — and only the SDK's — gets TypeScript 5 (the `typescript-5` alias in devDependencies).
 */
function typescriptApiForTheSdk(): void {
  const M = Module as unknown as { _resolveFilename: (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => string };
  const resolve = M._resolveFilename;
  const sdk = `${sep}@openshift-console${sep}dynamic-plugin-sdk-webpack${sep}`;
  if ((resolve as { trellis?: true }).trellis) return;
  const patched = (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => resolve(request === 'typescript' && parent?.filename?.includes(sdk) ? 'typescript-5' : request, parent, ...rest);
  M._resolveFilename = Object.assign(patched, { trellis: true as const });
}
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONTEXT = join(ROOT, 'src/console');

export interface PluginBuildResult {
  outDir: string;
  files: Array<{ file: string; bytes: number }>;
  ms: number;
}

export async function buildPlugin(options: { outDir?: string } = {}): Promise<PluginBuildResult> {
  const started = Date.now();
  const outDir = options.outDir ?? fileURLToPath(new URL('./plugin/', import.meta.url));
  // Build-time tools, loaded here only (CommonJS packages).
  typescriptApiForTheSdk();
  const webpack = require('webpack') as typeof import('webpack');
  const { ConsoleRemotePlugin } = require('@openshift-console/dynamic-plugin-sdk-webpack') as typeof import('@openshift-console/dynamic-plugin-sdk-webpack');
  const { EsbuildPlugin } = require('esbuild-loader') as typeof import('esbuild-loader');
  await rm(outDir, { recursive: true, force: true });
  const previous = process.cwd();
  // ConsoleRemotePlugin reads the plugin's package.json and node_modules from the working directory.
  process.chdir(ROOT);
  let stats: import('webpack').Stats;
  try {
    const compiler = webpack({
      mode: 'production',
      context: CONTEXT,
      entry: {},
      output: { path: outDir, filename: '[name]-[chunkhash].min.js', chunkFilename: '[name]-[chunkhash].min.js' },
      resolve: {
        extensions: ['.tsx', '.ts', '.js'],
        // The console's sources import each other as `x.js` (ESM with TypeScript): the file is `x.ts`.
        extensionAlias: { '.js': ['.ts', '.tsx', '.js'] },
      },
      module: {
        rules: [
          { test: /\.tsx?$/, exclude: /node_modules/, loader: 'esbuild-loader', options: { target: 'es2020', jsx: 'automatic' } },
          // The console's own stylesheet is injected by the plugin (setup.tsx): PatternFly's styles are the console's.
          { test: /console\.css$/, type: 'asset/source' },
        ],
      },
      optimization: { minimizer: [new EsbuildPlugin({ target: 'es2020' })] },
      cache: { type: 'filesystem', cacheDirectory: join(ROOT, 'node_modules/.cache/trellis-console-plugin'), buildDependencies: { config: [fileURLToPath(import.meta.url)] } },
      performance: { hints: false },
      infrastructureLogging: { level: 'error' },
      plugins: [
        new ConsoleRemotePlugin({
          pluginMetadata: PLUGIN_METADATA,
          extensions: EXTENSIONS as never,
          // The console provides @patternfly/react-topology 6.4; this repository builds against 6.6, whose graph API
          // the plugin uses is the same (the check compares the installed version with the console's range).
          validateSharedModules: false,
          sharedDynamicModuleSettings: { modulePaths: [join(ROOT, 'node_modules')] },
        }),
      ],
    });
    stats = await new Promise<import('webpack').Stats>((resolve, reject) => compiler.run((err, s) => (err ? reject(err) : compiler.close(() => resolve(s!)))));
  } finally {
    process.chdir(previous);
  }
  if (stats.hasErrors()) throw new Error(`the console plugin does not build:\n${stats.toString({ all: false, errors: true, errorDetails: true })}`);
  await writeFile(join(outDir, 'console-plugin.yaml'), stringify(consolePluginResource({ namespace: 'istio-system', service: 'trellis-console', port: 20001 })));
  const files = await Promise.all((await readdir(outDir)).map(async (f) => ({ file: join(outDir, f), bytes: (await stat(join(outDir, f))).size })));
  return { outDir, files, ms: Date.now() - started };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildPlugin().then(
    (r) => {
      const js = r.files.filter((f) => f.file.endsWith('.js')).reduce((a, f) => a + f.bytes, 0);
      process.stdout.write(`console plugin: ${r.files.length} files, ${(js / 1024).toFixed(0)} KiB js, ${r.ms} ms\n`);
    },
    (err) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}

// The commands' start-up bundles (part of `pnpm build`, after every package's `tsc`): each command's entry with
// everything it imports in one file, `packages/<pkg>/dist/<command>.bundle.js` (px-node: `.bundle.cjs`), which
// `bin/<command>` loads. One file instead of a few hundred modules to resolve, read and compile: px-node listens sooner and the CLI
// answers sooner (`pnpm bench agent`). Built from the TypeScript sources (the `@pxsim/source` condition).
//
// Kept out of the bundles, loaded from node_modules at run time:
// - etcd3 and cockatiel: loaded lazily by `@pxsim/kvdb-client` (`createRequire(import.meta.url)`, which in a bundle
//   is the bundle's own URL) when the first etcd request is made, never at start; so the two packages are
//   dependencies of node-agent and cli as well, to be resolvable from `packages/<pkg>/dist/`;
// - the optional native add-ons of ws (bufferutil, utf-8-validate) and msgpackr (msgpackr-extract), which their
//   packages require inside try/catch and do without.
// Trimmed, as nothing uses them: zod's error messages in other languages than English (`z.locales.*`, ~300 KB of
// the px-node bundle, all parsed at every start): zod's `locales` namespace is resolved to English alone. And local
// identifiers are minified (keepNames keeps every function's and class's `name`, so messages and stack frames name
// them as before). Both make px-node's bundle 2.2 -> 1.3 MB: less to read, parse and hold per process.
// `new URL('../package.json', import.meta.url)` (the --version code) still reads the package's own package.json, as
// the bundle sits in its package's dist/.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

/** zod's `export * as locales from '../locales/index.js'` (in v4/core and v4/classic) -> `{ en }` only. */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, ({ importer }) =>
      /[/\\]zod[/\\]v4[/\\](core|classic)[/\\][a-z]+\.js$/.test(importer)
        ? { path: join(importer, '..', '..', 'locales', 'en.js'), namespace: 'zod-english-only' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, ({ path }) => ({
      contents: `export { default as en } from ${JSON.stringify(path)};`,
      resolveDir: join(path, '..'),
    }));
  },
};
/**
 * The CLI commands are ES module bundles of their `src/bin/<name>.ts`, imported by `bin/<name>`. px-node's is a
 * CommonJS bundle of `src/cli.ts` (which exports `main`), because `bin/px-node` compiles it with `vm.Script` to use
 * V8's code cache (`dist/px-node.bundle.cjs.cache`, written by the first start after a build): a cached start skips
 * compiling the bundle's functions, about 100 of px-node's ~310 ms to a listening REST API (`pnpm bench agent`).
 * The CLI commands are short-lived (they would exit before a cache is worth writing) and keep the ES module form.
 */
const COMMANDS = [
  { pkg: 'node-agent', name: 'px-node', entry: 'cli.ts', format: 'cjs', outfile: 'px-node.bundle.cjs' },
  { pkg: 'cli', name: 'pxsim' },
  { pkg: 'cli', name: 'pxctl' },
  { pkg: 'cli', name: 'storkctl' },
];

/** ES modules: CommonJS dependencies call require() for Node's own modules, so the bundle gets a real one. */
const ESM_BANNER =
  "import { createRequire as pxsimCreateRequire } from 'node:module'; const require = pxsimCreateRequire(import.meta.url);";
/** CommonJS: `import.meta.url` (package.json for --version, lazy require of etcd3 and ajv) is the bundle file's URL. */
const CJS_BANNER = "const pxsimModuleUrl = require('node:url').pathToFileURL(__filename).href;";

await Promise.all(
  COMMANDS.map(({ pkg, name, entry = join('bin', `${name}.ts`), format = 'esm', outfile = `${name}.bundle.js` }) => {
    const dist = join(ROOT, 'packages', pkg, 'dist');
    // A new bundle makes its code cache stale (V8 checks the source's length, not its text): gone with it.
    rmSync(join(dist, `${outfile}.cache`), { force: true });
    return build({
      entryPoints: [join(ROOT, 'packages', pkg, 'src', entry)],
      outfile: join(dist, outfile),
      bundle: true,
      platform: 'node',
      format,
      target: 'node20',
      conditions: ['@pxsim/source'],
      external: ['etcd3', 'cockatiel', 'bufferutil', 'utf-8-validate', 'msgpackr-extract'],
      banner: { js: format === 'esm' ? ESM_BANNER : CJS_BANNER },
      ...(format === 'cjs' ? { define: { 'import.meta.url': 'pxsimModuleUrl' } } : {}),
      minifyWhitespace: true,
      minifySyntax: true,
      minifyIdentifiers: true,
      keepNames: true,
      plugins: [zodEnglishOnly],
      legalComments: 'none',
      logLevel: 'warning',
    });
  }),
);

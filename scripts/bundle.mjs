// The commands' start-up bundles (part of `pnpm build`, after every package's `tsc`): each command's entry with
// everything it imports in one ES module file, `packages/<pkg>/dist/<command>.bundle.js`, which `bin/<command>`
// loads. One file instead of a few hundred modules to resolve, read and compile: px-node listens sooner and the CLI
// answers sooner (`pnpm bench agent`). Built from the TypeScript sources (the `@pxsim/source` condition).
//
// Kept out of the bundles, loaded from node_modules at run time:
// - etcd3 and cockatiel: loaded lazily by `@pxsim/kvdb-client` (`createRequire(import.meta.url)`, which in a bundle
//   is the bundle's own URL) when the first etcd request is made, never at start; so the two packages are
//   dependencies of node-agent and cli as well, to be resolvable from `packages/<pkg>/dist/`;
// - the optional native add-ons of ws (bufferutil, utf-8-validate) and msgpackr (msgpackr-extract), which their
//   packages require inside try/catch and do without.
// `new URL('../package.json', import.meta.url)` (the --version code) still reads the package's own package.json, as
// the bundle sits in its package's dist/.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

/**
 * zod's error-message locales: `z.locales` re-exports every language (~290 KiB of the px-node bundle, parsed and run
 * at every start) although only English is ever used (zod configures `en` itself, from its own module). In the
 * bundles the locales index exports English alone; the rest of zod is untouched.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};
const COMMANDS = [
  { pkg: 'node-agent', name: 'px-node' },
  { pkg: 'cli', name: 'pxsim' },
  { pkg: 'cli', name: 'pxctl' },
  { pkg: 'cli', name: 'storkctl' },
];

await Promise.all(
  COMMANDS.map(({ pkg, name }) =>
    build({
      entryPoints: [join(ROOT, 'packages', pkg, 'src', 'bin', `${name}.ts`)],
      outfile: join(ROOT, 'packages', pkg, 'dist', `${name}.bundle.js`),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@pxsim/source'],
      plugins: [zodEnglishOnly],
      external: ['etcd3', 'cockatiel', 'bufferutil', 'utf-8-validate', 'msgpackr-extract'],
      // CommonJS dependencies call require() for Node's own modules: give the ES module bundle a real one.
      banner: {
        js: "import { createRequire as pxsimCreateRequire } from 'node:module'; const require = pxsimCreateRequire(import.meta.url);",
      },
      minifyWhitespace: true,
      minifySyntax: true,
      keepNames: true,
      legalComments: 'none',
      logLevel: 'warning',
    }),
  ),
);

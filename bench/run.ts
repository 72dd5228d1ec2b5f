/**
 * `pnpm bench`: every benchmark, one line per figure as `name: value unit`. Pass group names to run only some
 * (`pnpm bench kvdb`). Figures are measurements of this machine: compare ratios, not absolute numbers.
 */
import { formatFigure, type Figure } from './figures.js';
import { agentFigures } from './agent.js';
import { kubeFigures } from './kube.js';
import { kvdbFigures } from './kvdb.js';
import { membershipFigures } from './membership.js';
import { simFigures } from './sim.js';
import { volumeFigures } from './volume.js';

const groups: Record<string, () => Promise<Figure[]>> = {
  kvdb: kvdbFigures,
  agent: agentFigures,
  sim: simFigures,
  volume: volumeFigures,
  kube: kubeFigures,
  membership: membershipFigures,
};

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in groups)) {
    console.error(`unknown benchmark group "${name}"; known: ${Object.keys(groups).join(', ')}`);
    process.exit(2);
  }
}
for (const [name, run] of Object.entries(groups)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.error(`running ${name} benchmarks…`);
  for (const figure of await run()) console.log(formatFigure(figure));
}

#!/usr/bin/env node
// The size rules of packages/*/src: no function over 70 lines anywhere; no class over 350 lines in node-agent,
// sim-harness and cli. Prints each offender as file:line and exits 1 when there is one (run by `pnpm lint`).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const FUNCTION_LINES_MAX = 70;
const CLASS_LINES_MAX = 350;
const CLASS_RULE_PACKAGES = ['node-agent', 'sim-harness', 'cli'];

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'packages/*/src/**.ts'])
  .toString()
  .split('\n')
  .filter((file) => file.endsWith('.ts'));
const offenders = [];
for (const file of files) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const line = (position) => source.getLineAndCharacterOfPosition(position).line;
  const span = (node) => line(node.end) - line(node.getStart()) + 1;
  const classRule = CLASS_RULE_PACKAGES.some((name) => file.startsWith(`packages/${name}/`));
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body !== undefined && span(node) > FUNCTION_LINES_MAX)
      offenders.push(
        `${file}:${line(node.getStart()) + 1} function of ${span(node)} lines (at most ${FUNCTION_LINES_MAX})`,
      );
    if (classRule && ts.isClassDeclaration(node) && span(node) > CLASS_LINES_MAX)
      offenders.push(`${file}:${line(node.getStart()) + 1} class of ${span(node)} lines (at most ${CLASS_LINES_MAX})`);
    ts.forEachChild(node, visit);
  };
  visit(source);
}
for (const offender of offenders) console.log(offender);
if (offenders.length > 0) {
  console.log(`${offenders.length} over the size rules`);
  process.exit(1);
}

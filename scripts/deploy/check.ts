/**
 * `tsx scripts/deploy/check.ts <compose|dockerfile|chart|unit> <file, or - for stdin>`: prints each problem of the
 * file (checks.ts) and exits 1 when there is one. scripts/check-deploy.sh runs it on every deployment file.
 */
import { readFileSync } from 'node:fs';
import { checkCompose, checkDockerfile, checkRenderedChart, checkUnit } from './checks.js';

const CHECKS: Record<string, (text: string) => string[]> = {
  compose: checkCompose,
  dockerfile: checkDockerfile,
  chart: checkRenderedChart,
  unit: checkUnit,
};

const [kind, file] = process.argv.slice(2);
const check = kind === undefined ? undefined : CHECKS[kind];
if (!check || file === undefined) {
  console.error(`usage: tsx scripts/deploy/check.ts <${Object.keys(CHECKS).join('|')}> <file|->`);
  process.exit(2);
}
const problems = check(readFileSync(file === '-' ? 0 : file, 'utf8'));
for (const problem of problems) console.error(problem);
process.exit(problems.length > 0 ? 1 : 0);

/**
 * `npm run bench [-- --quick] [-- --only=<id>,<id>]`: runs each scenario beside its baseline in
 * this process run and writes bench/results/latest.json and latest.md. Ratios and medians only;
 * absolute times depend on the machine, which the results describe.
 */
import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem, platform, release } from 'node:os';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchScenario, ScenarioRunner } from './lib/result.js';
import { renderMarkdown } from './lib/report.js';

const scenarios: Record<string, () => Promise<{ default: ScenarioRunner }>> = {
  'save-latency': () => import('./scenarios/save-latency.js'),
  'upload-throughput': () => import('./scenarios/upload-throughput.js'),
  promotion: () => import('./scenarios/promotion.js'),
  'job-throughput': () => import('./scenarios/job-throughput.js'),
  'deletion-fan-out': () => import('./scenarios/deletion-fan-out.js'),
  'worker-throughput': () => import('./scenarios/worker-throughput.js'),
  upkeep: () => import('./scenarios/upkeep.js'),
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 1024 ** 3),
  os: `${platform()} ${release()}`,
  node: process.version,
};

const results: BenchScenario[] = [];
for (const [id, load] of Object.entries(scenarios)) {
  if (only && !only.includes(id)) continue;
  const started = Date.now();
  process.stdout.write(`bench ${id}${quick ? ' (quick)' : ''}...\n`);
  const scenario = await (await load()).default({ quick });
  results.push(scenario);
  process.stdout.write(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const report = { date: new Date().toISOString(), quick, machine, scenarios: results };
const folder = fileURLToPath(new URL('../../bench/results/', import.meta.url));
await mkdir(folder, { recursive: true });
for (const chart of results.flatMap((scenario) => scenario.charts ?? [])) {
  if (basename(chart.file) !== chart.file)
    throw new Error(`chart file ${chart.file} is not a name`);
  await writeFile(`${folder}${chart.file}`, chart.svg);
}
// The charts' documents live in their own files; the JSON names them.
const withoutSvg = (key: string, value: unknown) => (key === 'svg' ? undefined : value);
await writeFile(`${folder}latest.json`, `${JSON.stringify(report, withoutSvg, 2)}\n`);
await writeFile(`${folder}latest.md`, renderMarkdown(report));
process.stdout.write(renderMarkdown(report));
process.exit(0);

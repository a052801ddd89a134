import type { BenchRow, BenchScenario } from './result.js';

export interface BenchReport {
  date: string;
  quick: boolean;
  machine: Record<string, string | number>;
  scenarios: BenchScenario[];
}

const format = (value: number) =>
  Math.abs(value) >= 100
    ? value.toFixed(0)
    : Math.abs(value) >= 1
      ? value.toFixed(2)
      : value.toPrecision(2);

/** The goal of a row and whether the measured ratio meets it (a floor's goals only). */
export function meetsGoal(row: BenchRow): boolean | undefined {
  if (!row.goal) return undefined;
  const value = row.goal.value ?? row.ratio;
  return row.goal.at === 'least' ? value >= row.goal.ratio : value <= row.goal.ratio;
}

function goalCells(row: BenchRow): string {
  if (!row.goal) return ' | |';
  const { at, ratio, value, of } = row.goal;
  const shown = value === undefined ? '' : ` (${format(value)})`;
  const target = `${at === 'least' ? '>=' : '<='} ${ratio}${of ? ` ${of}` : ''}`;
  return ` ${target} | ${meetsGoal(row) ? 'yes' : 'no'}${shown} |`;
}

/** The results as Markdown: one table per scenario, ratios first. */
export function renderMarkdown(report: BenchReport): string {
  const lines = [
    `# Benchmark results`,
    '',
    `${report.date}${report.quick ? ' (quick run)' : ''}. Machine: ${Object.entries(report.machine)
      .map(([key, value]) => `${key} ${value}`)
      .join(', ')}.`,
    '',
    'Each row runs the subject and its baseline alternately in the same process run and reports',
    'medians; ratio = subject / baseline.',
    '',
  ];
  for (const scenario of report.scenarios) {
    lines.push(`## ${scenario.title}`, '');
    lines.push(
      `Subject: ${scenario.subject}. Baseline: ${scenario.baseline}. ${scenario.better === 'lower' ? 'Lower' : 'Higher'} is better.`,
      '',
    );
    const extras = [...new Set(scenario.rows.flatMap((row) => Object.keys(row.extra ?? {})))];
    const goals = scenario.rows.some((row) => row.goal);
    lines.push(
      `| case | metric | baseline | subject | ratio | reps |${goals ? ' goal | met |' : ''}${extras.map((e) => ` ${e} |`).join('')}`,
    );
    lines.push(
      `| --- | --- | --- | --- | --- | --- |${goals ? ' --- | --- |' : ''}${extras.map(() => ' --- |').join('')}`,
    );
    for (const row of scenario.rows) {
      const extra = extras.map((e) => {
        const value = row.extra?.[e];
        return ` ${typeof value === 'number' ? format(value) : (value ?? '')} |`;
      });
      lines.push(
        `| ${row.case} | ${row.metric} | ${format(row.baseline)} | ${format(row.subject)} | ${row.ratio.toFixed(2)} | ${row.repetitions} |${goals ? goalCells(row) : ''}${extra.join('')}`,
      );
    }
    for (const note of scenario.notes ?? []) lines.push('', note);
    for (const chart of scenario.charts ?? []) lines.push('', `![${chart.title}](${chart.file})`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

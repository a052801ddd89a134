/** One row of a scenario's table: the subject measured beside its baseline, in the same run. */
export interface BenchRow {
  /** What varies between rows, e.g. `10 MB` or `concurrency 10`. */
  case: string;
  /** What is measured and in which unit, e.g. `ms per save` or `MB/s`. */
  metric: string;
  /** Median of the baseline's repetitions. */
  baseline: number;
  /** Median of the subject's repetitions. */
  subject: number;
  /** subject / baseline. */
  ratio: number;
  repetitions: number;
  /**
   * Where the ratio must be for the row to meet its goal, when the baseline is a floor (the
   * least work a correct implementation must do): `at: 'least'` for rates, `'most'` for costs.
   * `of` names what the goal's ratio compares when it is not the row's own ratio.
   */
  goal?: { at: 'least' | 'most'; ratio: number; value?: number; of?: string };
  /** Anything else worth printing (peak RSS, request counts...). */
  extra?: Record<string, number | string>;
}

export interface BenchScenario {
  id: string;
  title: string;
  /** What is the subject and what is the baseline. */
  subject: string;
  baseline: string;
  rows: BenchRow[];
  /** How to read the ratio: which direction is better. */
  better: 'lower' | 'higher';
  notes?: string[];
  /**
   * Figures of the scenario, as standalone SVG documents (see svg-chart.ts): written next to
   * latest.md under `file` (a bare file name) and linked from it.
   */
  charts?: BenchChart[];
}

export interface BenchChart {
  /** File name in bench/results/, e.g. `worker-throughput.svg`. */
  file: string;
  /** Alternative text of the link in latest.md. */
  title: string;
  svg: string;
}

export interface BenchOptions {
  /** The short run (`npm run bench -- --quick`): fewer sizes and repetitions. */
  quick: boolean;
}

export type ScenarioRunner = (options: BenchOptions) => Promise<BenchScenario>;

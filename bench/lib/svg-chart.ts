/**
 * A small line chart as a standalone SVG document, with no dependency: axes with ticks and
 * grid lines, one polyline with markers per series, and a legend. Enough for the bench's
 * figures (a rate against concurrency, a latency against size), readable in any browser or on
 * GitHub.
 */

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
  /** Drawn dashed and without markers: a goal or a reference rather than a measure. */
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  /** `log` spaces x by its logarithm (concurrency 1, 10, 50; sizes in powers of ten). */
  xScale?: 'linear' | 'log';
  /** Where to put x ticks; by default round values for linear axes, powers of ten for log. */
  xTicks?: readonly number[];
  /** How an x tick reads (a size in the unit people expect, say); by default the number. */
  xTickLabel?: (value: number) => string;
  width?: number;
  height?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const MARGIN = { top: 40, right: 24, bottom: 52, left: 64 };
const LEGEND_ROW = 18;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * About `count` round tick values (1, 2 or 5 times a power of ten apart), the first at or below
 * `min` and the last at or above `max`, so the axis holds every point.
 */
function roundTicks(min: number, max: number, count = 5): number[] {
  const span = max - min || Math.abs(max) || 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw)!;
  const first = Math.floor(min / step);
  const last = Math.max(first + 1, Math.ceil(max / step - 1e-9));
  return Array.from({ length: last - first + 1 }, (_, k) =>
    Number(((first + k) * step).toPrecision(12)),
  );
}

function powersOfTen(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); 10 ** e <= max * (1 + 1e-9); e++) ticks.push(10 ** e);
  return ticks;
}

function label(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (magnitude >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(Number(value.toPrecision(4)));
}

/** The chart as an SVG document. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const series = options.series.filter((entry) => entry.points.length > 0);
  const points = series.flatMap((entry) => entry.points);
  if (points.length === 0) throw new Error(`chart "${options.title}" has no points`);
  const log = options.xScale === 'log';
  if (log && points.some((point) => point.x <= 0)) {
    throw new Error(`chart "${options.title}": a log x axis needs positive x values`);
  }

  const xs = points.map((point) => point.x);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const xTicks = (
    options.xTicks ?? (log ? powersOfTen(xMin, xMax) : roundTicks(xMin, xMax))
  ).filter((tick) => tick >= xMin && tick <= xMax);
  const yTicks = roundTicks(0, Math.max(...points.map((point) => point.y)));
  const yTop = yTicks[yTicks.length - 1]!;

  const legendHeight = series.length * LEGEND_ROW;
  const plot = {
    left: MARGIN.left,
    top: MARGIN.top + legendHeight,
    right: width - MARGIN.right,
    bottom: height - MARGIN.bottom,
  };
  const toX = (x: number) => {
    const [from, to, value] = log ? [Math.log(xMin), Math.log(xMax), Math.log(x)] : [xMin, xMax, x];
    const share = to === from ? 0.5 : (value - from) / (to - from);
    return plot.left + share * (plot.right - plot.left);
  };
  const toY = (y: number) => plot.bottom - (y / (yTop || 1)) * (plot.bottom - plot.top);
  const at = (value: number) => value.toFixed(1);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  for (const tick of yTicks) {
    const y = at(toY(tick));
    parts.push(
      `<line x1="${plot.left}" y1="${y}" x2="${plot.right}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${plot.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${label(tick)}</text>`,
    );
  }
  for (const tick of xTicks) {
    const x = at(toX(tick));
    parts.push(
      `<line x1="${x}" y1="${plot.top}" x2="${x}" y2="${plot.bottom}" stroke="#f0f0f0"/>`,
      `<line x1="${x}" y1="${plot.bottom}" x2="${x}" y2="${plot.bottom + 5}" stroke="#333"/>`,
      `<text x="${x}" y="${plot.bottom + 18}" text-anchor="middle">${escapeXml((options.xTickLabel ?? label)(tick))}</text>`,
    );
  }
  parts.push(
    `<line x1="${plot.left}" y1="${plot.bottom}" x2="${plot.right}" y2="${plot.bottom}" stroke="#333"/>`,
    `<line x1="${plot.left}" y1="${plot.top}" x2="${plot.left}" y2="${plot.bottom}" stroke="#333"/>`,
    `<text x="${(plot.left + plot.right) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${(plot.top + plot.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );

  series.forEach((entry, index) => {
    const color = PALETTE[index % PALETTE.length]!;
    const dash = entry.dashed ? ' stroke-dasharray="6 4"' : '';
    const sorted = [...entry.points].sort((a, b) => a.x - b.x);
    const path = sorted.map((point) => `${at(toX(point.x))},${at(toY(point.y))}`).join(' ');
    parts.push(
      `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`,
    );
    if (!entry.dashed) {
      for (const point of sorted) {
        parts.push(
          `<circle cx="${at(toX(point.x))}" cy="${at(toY(point.y))}" r="3.5" fill="${color}"><title>${escapeXml(`${entry.name}: ${label(point.y)} at ${label(point.x)}`)}</title></circle>`,
        );
      }
    }
    const y = MARGIN.top + index * LEGEND_ROW;
    parts.push(
      `<line x1="${plot.left}" y1="${y}" x2="${plot.left + 24}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${plot.left + 30}" y="${y}" dominant-baseline="middle">${escapeXml(entry.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

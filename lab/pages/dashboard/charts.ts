import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartState, DashboardState } from '../../dashboard/dashboard-state.js';

/** The dashboard's uPlot charts: one per widget (one-minute samples over time) and the setup-time distribution. */

const COLORS = ['#1f77b4', '#2ca02c', '#9467bd', '#d62728', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
const WIDTH = 420;
const HEIGHT = 220;

function panel(parent: HTMLElement, id: string, title: string): HTMLElement {
  const box = document.createElement('div');
  box.className = 'panel chart';
  box.id = `chart-${id}`;
  const heading = document.createElement('h2');
  heading.textContent = title;
  box.append(heading);
  parent.append(box);
  return box;
}

export class DashboardCharts {
  readonly #plots = new Map<string, uPlot>();
  #setup: uPlot | undefined;

  constructor(private readonly parent: HTMLElement) {}

  render(state: DashboardState): void {
    for (const chart of state.charts) this.#renderChart(chart, state.minutes);
    this.#renderSetup(state);
  }

  #renderChart(chart: ChartState, minutes: readonly number[]): void {
    // a chart of many possible lines (the failure reasons) draws only those that have data
    const shown = chart.series.filter((series) => chart.id !== 'failed' || series.values.some((v) => v !== null));
    const key = `${chart.id}:${shown.map((s) => s.label).join('|')}`;
    const data: uPlot.AlignedData = [minutes as number[], ...shown.map((s) => stackedValues(chart, shown, s))];
    const plot = this.#plots.get(chart.id);
    if (plot !== undefined && (plot as uPlot & { roomlineKey?: string }).roomlineKey === key) return plot.setData(data);
    plot?.destroy();
    const box = document.getElementById(`chart-${chart.id}`) ?? panel(this.parent, chart.id, chart.title);
    const hasRight = shown.some((s) => s.right);
    const created = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] }, ...(hasRight ? { right: { range: (_u, _min, max) => [0, Math.max(1, max)] } } : {}) },
        axes: [{}, { scale: 'y' }, ...(hasRight ? [{ scale: 'right', side: 1 as const, grid: { show: false } }] : [])],
        series: [
          {},
          ...shown.map((s, i) => ({
            label: s.label,
            scale: s.right ? 'right' : 'y',
            stroke: COLORS[i % COLORS.length]!,
            width: 2,
            points: { show: true, size: 8, fill: COLORS[i % COLORS.length]! },
            ...(chart.stacked ? { fill: `${COLORS[i % COLORS.length]!}55` } : {}),
          })),
        ],
      },
      data,
      box,
    );
    (created as uPlot & { roomlineKey?: string }).roomlineKey = key;
    this.#plots.set(chart.id, created);
  }

  #renderSetup(state: DashboardState): void {
    const bins = state.setupTime.histogram;
    const data: uPlot.AlignedData = [bins.map((b) => (b.fromMs + b.toMs) / 2000), bins.map((b) => b.count)];
    if (this.#setup !== undefined) return this.#setup.setData(data);
    const box = panel(this.parent, 'setup-histogram', 'Setup time distribution (calls per 0.5 s)');
    this.#setup = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        scales: { x: { time: false, range: (_u, _min, max) => [0, Math.max(1, max + 0.5)] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{ label: 'seconds' }, { label: 'calls' }],
        series: [{ label: 's' }, { label: 'calls', stroke: COLORS[0]!, fill: COLORS[0]!, paths: uPlot.paths.bars!({ size: [0.9, 60] }) }],
      },
      data,
      box,
    );
  }
}

/** A stacked chart's line is the sum of its own and the lines before it (as CloudWatch stacks). */
function stackedValues(chart: ChartState, shown: ChartState['series'], series: ChartState['series'][number]): (number | null)[] {
  if (!chart.stacked) return [...series.values];
  const upTo = shown.slice(0, shown.indexOf(series) + 1);
  return series.values.map((_, i) => {
    const values = upTo.map((s) => s.values[i] ?? null);
    return values.every((v) => v === null) ? null : values.reduce<number>((a, v) => a + (v ?? 0), 0);
  });
}

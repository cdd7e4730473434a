import { describe, expect, it } from 'vitest';
import { DASHBOARD_WIDGETS } from '../../lab/dashboard/dashboard-widgets.js';
import { METRIC_DIMENSIONS, METRICS } from '../../worker/aws/metric-names.js';
import { resourceOf, synthBridge } from './synth.js';

/**
 * The lab dashboard draws what the CloudWatch dashboard draws: every graph of the construct's dashboard that reads
 * Roomline's own metrics has a chart of the same title in the lab, with the same metrics, dimensions, statistics and
 * labels, and the lab draws nothing the construct does not.
 */

type Line = { readonly title: string; readonly metric: string; readonly dimensions: string; readonly stat: string; readonly label: string };

/** The dashboard body as JSON, CloudFormation tokens (ARNs, the region) replaced by a placeholder. */
function dashboardBody(): { widgets: { type: string; properties: { title?: string; metrics?: unknown[][] } }[] } {
  const { template } = synthBridge({}, 'LabCheck');
  const body = resourceOf(template, 'AWS::CloudWatch::Dashboard', 'Dashboard').Properties['DashboardBody'] as unknown;
  const text = typeof body === 'string' ? body : ((body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join(''));
  return JSON.parse(text) as ReturnType<typeof dashboardBody>;
}

function constructLines(): Line[] {
  const lines: Line[] = [];
  for (const widget of dashboardBody().widgets) {
    for (const entry of widget.properties.metrics ?? []) {
      if (entry[0] !== 'Roomline') continue;
      // a graph's statistic is left out of the body when it is CloudWatch's default, Average
      const options = entry.at(-1) as { stat?: string; label: string };
      const pairs = entry.slice(2, -1) as string[];
      const dims = Array.from({ length: pairs.length / 2 }, (_, i) => [pairs[2 * i]!, pairs[2 * i + 1]!] as const).filter(([name]) => name !== METRIC_DIMENSIONS.deployment);
      lines.push({ title: widget.properties.title!, metric: entry[1] as string, dimensions: dims.map(([n, v]) => `${n}=${v}`).join(','), stat: options.stat ?? 'Average', label: options.label });
    }
  }
  return lines;
}

function labLines(): Line[] {
  return DASHBOARD_WIDGETS.flatMap((widget) =>
    widget.metrics.map((m) => ({
      title: widget.title,
      metric: METRICS[m.key].name,
      dimensions: Object.entries(m.dimensions ?? {}).map(([n, v]) => `${n}=${v}`).join(','),
      stat: m.statistic,
      label: m.label,
    })),
  );
}

describe('the lab dashboard and the CloudWatch dashboard', () => {
  it('draw the same Roomline metrics, with the same dimensions, statistics, labels and chart titles', () => {
    const key = (l: Line) => `${l.title} | ${l.metric} ${l.dimensions} ${l.stat} "${l.label}"`;
    const construct = constructLines().map(key).sort();
    expect(construct.length).toBeGreaterThan(20);
    expect(labLines().map(key).sort()).toEqual(construct);
  });
});

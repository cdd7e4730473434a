import type { CallsView } from '../../dashboard/call-list.js';
import type { DashboardUpdate } from '../../dashboard/dashboard-server.js';
import type { DashboardState } from '../../dashboard/dashboard-state.js';
import { DashboardCharts } from './charts.js';

/** The lab dashboard's page: renders each update of `/events` (server-sent events). */

const byId = (id: string): HTMLElement => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element;
};

function el(tag: string, text: string, attributes: Record<string, string> = {}): HTMLElement {
  const element = document.createElement(tag);
  element.textContent = text;
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

const fixed = (value: number | null, digits = 1): string => (value === null ? 'n/a' : value.toFixed(digits));

function renderStates(calls: CallsView): void {
  byId('states').replaceChildren(
    ...Object.entries(calls.byState).map(([state, count]) => {
      const box = el('div', state, { class: `state ${state}`, 'data-state': state });
      box.prepend(el('b', String(count), { 'data-count': String(count) }));
      return box;
    }),
  );
}

function renderFigures(metrics: DashboardState): void {
  const { totals, setupTime, legs, workers } = metrics;
  const reasons = Object.entries(totals.failedByReason).map(([reason, count]) => el('li', `${reason}: ${count}`, { 'data-reason': reason }));
  const list = el('ul', '', { id: 'failed-reasons' });
  list.append(...reasons);
  byId('totals').replaceChildren(
    el('div', `started ${totals.started} · connected ${totals.connected} · ended ${totals.ended} · failed ${totals.failed}`, { id: 'totals-line' }),
    list,
  );
  byId('setup-figures').replaceChildren(
    el('div', `${setupTime.count} calls answered · p50 ${fixed(setupTime.p50Ms, 0)} ms · p95 ${fixed(setupTime.p95Ms, 0)} ms`, { id: 'setup-line' }),
  );
  const rows = [
    ['leg', 'loss %', 'jitter ms', 'concealment %'],
    ['SIP', fixed(legs.sip.lossPct, 2), fixed(legs.sip.jitterMs), fixed(legs.sip.concealmentPct, 2)],
    ['room', fixed(legs.room.lossPct, 2), fixed(legs.room.jitterMs), 'n/a'],
  ];
  byId('legs').replaceChildren(
    ...rows.map((cells, i) => {
      const row = document.createElement('tr');
      row.append(...cells.map((cell) => el(i === 0 ? 'th' : 'td', cell)));
      return row;
    }),
  );
  byId('workers').replaceChildren(
    el('div', workers.minute === null ? 'no sample yet (one per worker per minute)' : `idle ${workers.idle ?? 0} · busy ${workers.busy ?? 0}`, { id: 'workers-line' }),
  );
}

function renderCalls(calls: CallsView): void {
  const body = byId('calls').querySelector('tbody')!;
  body.replaceChildren(
    ...calls.calls.map((call) => {
      const row = document.createElement('tr');
      row.dataset['callId'] = call.callId;
      const link = el('a', call.callId, { href: `calls/${encodeURIComponent(call.callId)}`, class: 'record' });
      const first = document.createElement('td');
      first.append(link);
      const history = call.history.map((h) => `${h.state} ${h.at.slice(11, 19)}${h.detail === undefined ? '' : ` (${h.detail})`}`).join(' → ');
      row.append(first, el('td', call.state, { class: 'call-state' }), el('td', call.to ?? ''), el('td', call.failure ?? '', { class: 'failure' }), el('td', history, { class: 'history' }));
      return row;
    }),
  );
}

const charts = new DashboardCharts(byId('charts'));
const events = new EventSource('events');
let updates = 0;
events.onmessage = (message: MessageEvent<string>) => {
  const update = JSON.parse(message.data) as DashboardUpdate;
  renderStates(update.calls);
  renderFigures(update.metrics);
  charts.render(update.metrics);
  renderCalls(update.calls);
  updates++;
  document.body.dataset['updates'] = String(updates);
  byId('status').textContent = `live · ${new Date(update.at).toLocaleTimeString()} · ${update.metrics.lines} metric lines read`;
};
events.onerror = () => {
  byId('status').textContent = 'disconnected: retrying…';
};

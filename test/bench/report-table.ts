/** The benchmark's side-by-side table: one row per figure, Postfix and relay columns, their ratio. */
import type { PeerName, PeerResult } from './bench-results.ts';

type Figure = (r: PeerResult) => number | null | undefined;

const ROWS: [label: string, figure: Figure, digits: number][] = [
  ['new connection per message: accepted msg/s', (r) => r.newConnectionPerMessage.acceptedPerSecond, 0],
  ['new connection per message: delivered msg/s', (r) => r.newConnectionPerMessage.deliveredPerSecond, 0],
  ['-d (connection reuse): accepted msg/s', (r) => r.connectionReuse.acceptedPerSecond, 0],
  ['-d (connection reuse): delivered msg/s', (r) => r.connectionReuse.deliveredPerSecond, 0],
  ['latency test: target msg/s (half peak accept)', (r) => r.latency?.targetRate, 0],
  ['latency test: achieved msg/s', (r) => r.latency?.achievedRate, 0],
  ['accept latency p50 ms', (r) => r.latency?.p50Ms, 1],
  ['accept latency p99 ms', (r) => r.latency?.p99Ms, 1],
  ['accept latency max ms', (r) => r.latency?.maxMs, 1],
  ['peak memory: PSS MiB, sum over processes', (r) => r.memory?.pssMiB, 0],
  ['peak memory: RSS MiB, sum over processes', (r) => r.memory?.rssMiB, 0],
  ['peak memory: processes', (r) => r.memory?.processes, 0],
];

export function renderTable(results: Partial<Record<PeerName, PeerResult>>, notMeasured: Partial<Record<PeerName, string>>): string {
  const cell = (peer: PeerName, figure: Figure, digits: number) => {
    const r = results[peer];
    if (!r) return notMeasured[peer] ? 'not run' : '—';
    const v = figure(r);
    return v === null || v === undefined || Number.isNaN(v) ? 'failed' : v.toFixed(digits);
  };
  const ratio = (figure: Figure) => {
    const a = results.relay ? figure(results.relay) : null;
    const b = results.postfix ? figure(results.postfix) : null;
    return a && b ? `${(a / b).toFixed(2)}×` : '—';
  };
  const lines = [
    ['', 'postfix', 'relay', 'relay/postfix'],
    ...ROWS.map(([label, figure, digits]) => [label, cell('postfix', figure, digits), cell('relay', figure, digits), ratio(figure)]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('   ')).join('\n');
}

/** Lines explaining failed runs and a latency client that could not keep its schedule. */
export function renderNotes(results: Partial<Record<PeerName, PeerResult>>): string[] {
  const notes: string[] = [];
  for (const r of Object.values(results)) {
    for (const [mode, m] of [['new connection', r.newConnectionPerMessage], ['-d', r.connectionReuse]] as const) {
      if (m.error) notes.push(`${r.peer} (${mode}): ${m.error}`);
    }
    const l = r.latency;
    if (l && (l.failed > 0 || l.lateStarts > 0)) {
      notes.push(
        `${r.peer} (latency): ${l.failed} failed, ${l.lateStarts} of ${l.sent} started >10 ms late, ${l.connections} connections${l.firstError ? `; first error: ${l.firstError}` : ''}`,
      );
    }
  }
  return notes;
}

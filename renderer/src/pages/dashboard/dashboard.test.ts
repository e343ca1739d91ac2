import { render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../i18n/catalog.ts';
import { LOCALES } from '../../i18n/message-types.ts';
import type { LogLine, StatsSeries } from '../../../../server/protocol/index.ts';
import { createTestApi, ok, testContext } from '../../test-support/fake-api.ts';
import DashboardPage from './DashboardPage.svelte';
import { areaPath, labelIndices, linePath, nearestIndex, niceTicks } from './chart-geometry.ts';
import { DASHBOARD_COMPUTED_KEYS } from './dashboard-keys.ts';
import { normalizeReply, reasonsFromLogs, topReasons } from './reasons.ts';

describe('chart geometry', () => {
  it('picks round ticks covering the maximum', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(100)).toEqual([0, 25, 50, 75, 100]);
    expect(niceTicks(3)).toEqual([0, 1, 2, 3]);
  });
  it('breaks lines at missing values and marks lone points', () => {
    const x = (i: number) => i * 10;
    const y = (v: number) => 100 - v;
    expect(linePath([1, 2, null, 4], x, y)).toBe('M0.0,99.0L10.0,98.0M30.0,96.0h0.01');
    expect(areaPath([1, null, 2, 3], x, y, 100)).toBe('M0.0,100.0L0.0,99.0L0.0,100.0ZM20.0,100.0L20.0,98.0L30.0,97.0L30.0,100.0Z');
  });
  it('spreads x labels and finds the nearest bucket', () => {
    expect(labelIndices(60, 5)).toEqual([0, 15, 30, 45, 59]);
    expect(labelIndices(3, 5)).toEqual([0, 1, 2]);
    expect(nearestIndex(55, 11, 0, 100)).toBe(6);
    expect(nearestIndex(-5, 11, 0, 100)).toBe(0);
  });
});

describe('reasons', () => {
  it('folds addresses and ids so the same cause counts once', () => {
    expect(normalizeReply('connection failed: connect ECONNREFUSED 10.0.0.5:25')).toBe('connection failed: connect ECONNREFUSED <ip>');
    const lines = [
      { time: 1, level: 'info', event: 'deferred', reply: 'connect ECONNREFUSED 10.0.0.5:25' },
      { time: 2, level: 'info', event: 'deferred', reply: 'connect ECONNREFUSED 10.0.0.6:25' },
      { time: 3, level: 'info', event: 'deferred', reply: '451 4.7.1 greylisted' },
    ] as LogLine[];
    expect(topReasons(reasonsFromLogs(lines))).toEqual([
      { reason: 'connect ECONNREFUSED <ip>', count: 2 },
      { reason: '451 4.7.1 greylisted', count: 1 },
    ]);
  });
  it('has every computed key in every language', () => {
    for (const locale of LOCALES) expect(DASHBOARD_COMPUTED_KEYS.filter((k) => !catalog.messages[locale].has(k))).toEqual([]);
  });
});

describe('DashboardPage', () => {
  it('shows queue counts, totals and the relay’s reject reasons', async () => {
    const t = createTestApi();
    const now = Date.now();
    t.control.set('status', () =>
      ok({
        version: '9.9.9',
        protocol: 1,
        pid: 1,
        startedAt: now - 7200_000,
        uptimeSeconds: 7200,
        hostname: 'h',
        platform: 'linux',
        nodeVersion: 'v20',
        dataDir: '/d',
        configRevision: 'r',
        listeners: [{ name: 'smtp', host: '127.0.0.1', port: 2525, tls: 'starttls', listening: true, error: null }],
        queue: { active: 1, deferred: 4, held: 2, total: 7, oldestAgeSeconds: 5400 },
        activity: { smtpSessions: 0, deliveriesInFlight: 0, outboundConnections: 0, outboundBusy: 0, controlConnections: 1 },
      }),
    );
    const counts = { received: 10, rejected: 3, delivered: 6, deferred: 4, bounced: 1 };
    const series: StatsSeries = {
      from: now - 3600_000,
      to: now,
      step: 60,
      buckets: [{ start: now - 60_000, counts, reasons: {}, queueSize: 7, queueSizeMax: 9 }],
      totals: { counts, reasons: { rejected: { 'relay access denied': 2, 'blacklist: Known spammer': 1 } } },
    };
    t.control.set('stats.get', () => ok(series));
    t.control.set('logs.query', () => ok({ items: [], truncated: false }));
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'local', pageId: 'dashboard' });
    render(DashboardPage, { props: { instanceId: 'local', tab: undefined }, context });
    await waitFor(() => expect(screen.getByTestId('queue-total').textContent).toBe('7'));
    expect(screen.getByText('mailrelay 9.9.9')).toBeInTheDocument();
    expect(screen.getByTestId('uptime').textContent).toBe('2 hr');
    await waitFor(() => expect(screen.getByTestId('total-received').textContent).toBe('10'));
    expect(screen.getByText('relay access denied')).toBeInTheDocument();
    expect(screen.getByText('No deferrals in this time range.')).toBeInTheDocument();
  });
});

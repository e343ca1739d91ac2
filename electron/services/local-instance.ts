/**
 * The local relay as an instance: the supervisor's snapshot as an InstanceState, control calls over
 * its session, and the log subscription renewed whenever the relay (re)starts.
 */
import { EventEmitter } from 'node:events';
import type { ControlClient } from '../../server/control/control-client.ts';
import type { LogFilter, LogsEvent, MethodName } from '../../server/protocol/index.ts';
import type { InstanceState, InstanceStatus } from '../ipc-contract.ts';
import { said, stateText } from './app-error-text.ts';
import { AppError, missingCase } from './app-error.ts';
import { LocalRelaySupervisor, type LocalRelayOptions, type SupervisorSnapshot } from './local-relay-supervisor.ts';

/** Events of the local instance. */
export interface LocalInstanceEvents {
  state: [InstanceState];
  'logs.event': [LogsEvent];
}

export class LocalInstance extends EventEmitter<LocalInstanceEvents> {
  readonly supervisor: LocalRelaySupervisor;
  private st: InstanceState;
  private logFilter: LogFilter | null = null;
  private attached: ControlClient | null = null;

  constructor(readonly options: LocalRelayOptions) {
    super();
    this.supervisor = new LocalRelaySupervisor(options);
    this.st = toState(this.supervisor.snapshot, null);
    this.supervisor.on('change', (snap) => this.onChange(snap));
  }

  get state(): InstanceState {
    return this.st;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  /** Start (or adopt) the relay; resolves with the state it settles in (failures are in the state). */
  async connect(): Promise<InstanceState> {
    await this.supervisor.start().catch(() => {});
    return this.st;
  }

  async disconnect(): Promise<InstanceState> {
    await this.supervisor.stop();
    return this.st;
  }

  async call(method: Exclude<MethodName, 'auth'>, params: unknown, timeoutMs?: number): Promise<unknown> {
    const c = this.supervisor.control;
    if (!c || this.st.status !== 'connected') {
      throw new AppError('NOT_CONNECTED', this.st.message ? said('local.notRunningBecause', { reason: stateText(this.st) }) : said('local.notRunning'));
    }
    return (c.call as (m: string, p: unknown, o?: { timeoutMs?: number }) => Promise<unknown>)(method, params ?? {}, timeoutMs ? { timeoutMs } : undefined);
  }

  async setLogFilter(filter: LogFilter | null): Promise<void> {
    this.logFilter = filter;
    const c = this.supervisor.control;
    if (!c) return;
    if (filter) await c.call('logs.subscribe', { filter });
    else await c.call('logs.unsubscribe', {});
  }

  private onChange(snap: SupervisorSnapshot): void {
    const c = this.supervisor.control;
    if (snap.status === 'running' && c && c !== this.attached) {
      this.attached = c;
      c.on('logs.event', (e) => this.emit('logs.event', e));
      if (this.logFilter) c.call('logs.subscribe', { filter: this.logFilter }).catch(() => {});
    }
    this.st = toState(snap, this.st);
    this.emit('state', this.st);
  }
}

function statusOf(snap: SupervisorSnapshot): InstanceStatus {
  switch (snap.status) {
    case 'stopped':
    case 'restarting':
      return 'relay-stopped';
    case 'starting':
      return 'connecting';
    case 'running':
      return 'connected';
    case 'failed':
      return 'failed';
    default:
      return missingCase(snap.status);
  }
}

function toState(snap: SupervisorSnapshot, prev: InstanceState | null): InstanceState {
  const status = statusOf(snap);
  const line = snap.message ? { message: snap.message, say: snap.say } : status === 'relay-stopped' ? said('local.notRunning') : { message: '' };
  return {
    status,
    message: line.message,
    ...(line.say ? { say: line.say } : {}),
    since: prev && prev.status === status ? prev.since : Date.now(),
    retryAt: snap.retryAt,
    relayVersion: snap.version,
    hostKey: null,
  };
}

/** The Tools page: a test message through the real route (`test.send`) and the DNS check (`dns.check`). */
import { controlCall, type IpcError, type RelayDeskApi } from '../../api/relay-desk.ts';
import type { MethodResult } from '../../../../server/protocol/index.ts';

/** What `test.send` returns. */
export type TestSendResult = MethodResult<'test.send'>;
/** What `dns.check` returns. */
export type DnsCheckResult = MethodResult<'dns.check'>;

/** The label of each DNS check status (written out for the key test). */
export const DNS_STATUS_KEYS: Record<DnsCheckResult['checks'][number]['status'], string> = {
  pass: 'tools.dns.status.pass',
  warn: 'tools.dns.status.warn',
  fail: 'tools.dns.status.fail',
  error: 'tools.dns.status.error',
};

export class ToolsModel {
  readonly #api: RelayDeskApi;
  readonly #instanceId: string;

  sending = $state(false);
  sendResult = $state.raw<TestSendResult | null>(null);
  sendError = $state<IpcError | null>(null);
  checking = $state(false);
  dnsResult = $state.raw<DnsCheckResult | null>(null);
  dnsError = $state<IpcError | null>(null);
  /** The relay's own domain, to suggest a sender. */
  domain = $state<string | null>(null);

  constructor(api: RelayDeskApi, instanceId: string) {
    this.#api = api;
    this.#instanceId = instanceId;
  }

  async loadDefaults(): Promise<void> {
    const r = await controlCall(this.#api, this.#instanceId, 'config.get');
    if (r.ok) this.domain = r.value.config.general.profile.domain;
  }

  async send(from: string, to: string[], subject: string, body: string): Promise<void> {
    this.sending = true;
    this.sendError = null;
    this.sendResult = null;
    const r = await controlCall(this.#api, this.#instanceId, 'test.send', { from, to, subject, body });
    this.sending = false;
    if (r.ok) this.sendResult = r.value;
    else this.sendError = r.error;
  }

  async checkDns(): Promise<void> {
    this.checking = true;
    this.dnsError = null;
    const r = await controlCall(this.#api, this.#instanceId, 'dns.check');
    this.checking = false;
    if (r.ok) this.dnsResult = r.value;
    else this.dnsError = r.error;
  }
}

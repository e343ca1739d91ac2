/**
 * The shapes the settings pages edit. The relay's config as read (`config.get`, passwords redacted to
 * `hasPassword`), plus a write-only `password` on relay hosts: absent keeps the stored password, a
 * string replaces it ("" removes it). That is exactly what `config.apply` accepts.
 */
import type { z } from 'zod';
import type { RedactedConfig, redactedRelayHostSchema } from '../../../server/protocol/index.ts';

/** A relay host as read from the relay. */
export type RedactedRelayHost = z.output<typeof redactedRelayHostSchema>;

/** A relay host in the editor: `password` set only when the user typed a new one. */
export type EditableRelayHost = RedactedRelayHost & { password?: string };

type RedactedDelivery = RedactedConfig['delivery'];
/** A relay exception in the editor. */
export type EditableRelayException = Omit<RedactedDelivery['exceptions'][number], 'relayHost'> & { relayHost: EditableRelayHost };

/** The whole config in the editor. */
export type EditableConfig = Omit<RedactedConfig, 'delivery'> & {
  delivery: Omit<RedactedDelivery, 'relayHost' | 'exceptions'> & {
    relayHost: EditableRelayHost | null;
    exceptions: EditableRelayException[];
  };
};

export type TrustedNetwork = RedactedConfig['relayControl']['trustedNetworks'][number];
export type RelayDomain = RedactedConfig['relayControl']['relayDomains'][number];
export type ListRule = RedactedConfig['security']['lists'][number];
export type Listener = RedactedConfig['listeners'][number];
export type RateLimit = NonNullable<RedactedConfig['security']['connectionPolicy']['connectionRateLimit']>;

/** A new relay host with the relay's defaults. */
export function newRelayHost(): EditableRelayHost {
  return { host: '', port: 587, security: 'starttls', username: '', verifyCertificate: true, hasPassword: false, password: '' };
}

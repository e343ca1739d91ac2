/**
 * Checks that can only run once the whole message has arrived (SPEC §1.3): size, hop count,
 * attachment size and auto-forwarding. A pure function of what the inspector found and the config.
 */
import type { RelayConfig } from '../config/schema.ts';
import type { Rejection } from './verdict.ts';

/** What the stream inspection saw (server/smtp/message-inspector.ts). */
export interface EndOfDataFacts {
  sizeExceeded: boolean;
  inspection: {
    receivedCount: number;
    autoForwardMarker: string | null;
    oversizeAttachment: { name: string; bytes: number } | null;
  };
  recipients: readonly string[];
}

export type EndOfDataRejection = Pick<Rejection, 'code' | 'enhanced' | 'text' | 'rule'>;

export function checkEndOfData(f: EndOfDataFacts, config: RelayConfig, isExternal: (rcpt: string) => boolean): EndOfDataRejection | null {
  const profile = config.general.profile;
  const r = f.inspection;
  if (f.sizeExceeded) {
    return { code: 552, enhanced: '5.3.4', text: `Message size exceeds the limit of ${profile.maxMessageSizeMB} MB`, rule: 'max-message-size' };
  }
  if (r.receivedCount >= profile.maxHops) {
    return { code: 554, enhanced: '5.4.6', text: `Too many hops (${r.receivedCount} Received headers, limit ${profile.maxHops}): mail loop?`, rule: 'max-hops' };
  }
  if (r.oversizeAttachment) {
    return {
      code: 552,
      enhanced: '5.3.4',
      text: `Attachment "${r.oversizeAttachment.name.replace(/[\r\n"]/g, '')}" exceeds the limit of ${profile.attachmentSizeLimitMB} MB`,
      rule: 'attachment-size-limit',
    };
  }
  // Only mail leaving for outside recipients is refused: forwarding inside the company is fine.
  if (config.general.disableAutoForwarding && r.autoForwardMarker && f.recipients.some(isExternal)) {
    return {
      code: 550,
      enhanced: '5.7.1',
      text: `Auto-forwarding to external recipients is disabled (${r.autoForwardMarker.replace(/[\r\n]/g, ' ')})`,
      rule: 'disable-auto-forwarding',
    };
  }
  return null;
}

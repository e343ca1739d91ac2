import { describe, expect, it } from 'vitest';
import { relayConfigSchema } from '../../server/config/schema.ts';
import { checkEndOfData, type EndOfDataFacts } from '../../server/policy/end-of-data.ts';

const config = relayConfigSchema.parse({ general: { disableAutoForwarding: true, profile: { maxHops: 3, maxMessageSizeMB: 1, attachmentSizeLimitMB: 2 } } });
const clean: EndOfDataFacts = { sizeExceeded: false, inspection: { receivedCount: 1, autoForwardMarker: null, oversizeAttachment: null }, recipients: ['a@far.example'] };
const external = (r: string) => r.endsWith('@far.example');

describe('end-of-data checks', () => {
  it('passes a clean message', () => {
    expect(checkEndOfData(clean, config, external)).toBeNull();
  });
  it('refuses oversize messages with 552 5.3.4', () => {
    expect(checkEndOfData({ ...clean, sizeExceeded: true }, config, external)).toMatchObject({ code: 552, enhanced: '5.3.4', rule: 'max-message-size' });
  });
  it('refuses a message at the hop limit with 554 5.4.6', () => {
    expect(checkEndOfData({ ...clean, inspection: { ...clean.inspection, receivedCount: 3 } }, config, external)).toMatchObject({ code: 554, enhanced: '5.4.6' });
    expect(checkEndOfData({ ...clean, inspection: { ...clean.inspection, receivedCount: 2 } }, config, external)).toBeNull();
  });
  it('names the oversize attachment, without characters that could break the reply', () => {
    const r = checkEndOfData({ ...clean, inspection: { ...clean.inspection, oversizeAttachment: { name: 'a"b\r\n.pdf', bytes: 3e6 } } }, config, external);
    expect(r).toMatchObject({ code: 552, enhanced: '5.3.4', text: 'Attachment "ab.pdf" exceeds the limit of 2 MB' });
  });
  it('refuses auto-forwarded mail only when a recipient is external and the option is on', () => {
    const fwd = { ...clean, inspection: { ...clean.inspection, autoForwardMarker: 'Auto-Submitted: auto-forwarded' } };
    expect(checkEndOfData(fwd, config, external)).toMatchObject({ code: 550, enhanced: '5.7.1', rule: 'disable-auto-forwarding' });
    expect(checkEndOfData({ ...fwd, recipients: ['x@inside.example'] }, config, external)).toBeNull();
    const off = relayConfigSchema.parse({});
    expect(checkEndOfData(fwd, off, external)).toBeNull();
  });
});

/** The Received header the relay adds to every accepted message (RFC 5321 §4.4, RFC 3848 protocol names). */

export interface ReceivedFacts {
  helo: string;
  clientHostname: string | null;
  clientIp: string;
  byHostname: string;
  id: string;
  esmtp: boolean;
  tls: { protocol: string; cipher: string } | null;
  authenticated: boolean;
  /** Named in a "for" clause only when there is exactly one recipient (more would leak Bcc). */
  recipients: string[];
  date: Date;
}

export function receivedHeader(f: ReceivedFacts): string {
  const proto = (f.esmtp ? 'ESMTP' : 'SMTP') + (f.tls ? 'S' : '') + (f.authenticated ? 'A' : '');
  const ipLiteral = f.clientIp.includes(':') ? `IPv6:${f.clientIp}` : f.clientIp;
  const from = `${sanitize(f.helo) || 'unknown'} (${f.clientHostname ? sanitize(f.clientHostname) + ' ' : ''}[${ipLiteral}])`;
  const tls = f.tls ? `\r\n\t(using ${sanitize(f.tls.protocol)} with cipher ${sanitize(f.tls.cipher)})` : '';
  const forClause = f.recipients.length === 1 ? `\r\n\tfor <${sanitize(f.recipients[0]!)}>` : '';
  return `Received: from ${from}\r\n\tby ${f.byHostname} (Relay Desk mailrelay) with ${proto} id ${f.id}${tls}${forClause};\r\n\t${rfc5322Date(f.date)}\r\n`;
}

/** Client-supplied text must not be able to break the header (CR/LF, parentheses). */
function sanitize(s: string): string {
   
  return s.replace(/[\x00-\x1f\x7f()\\]/g, '').slice(0, 255);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date-time in the local zone, e.g. "Sat, 28 Nov 2026 10:34:01 +0100". */
export function rfc5322Date(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]}, ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

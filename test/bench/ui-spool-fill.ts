/**
 * Fill a relay data dir's spool with N deferred messages, written as the spool itself leaves them
 * (envelope line + body, and a state file saying "deferred, next attempt in an hour"), so a relay
 * started on it has a big queue at once and tries none of it during a benchmark.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { newQueueId } from '../../server/queue/queue-id.ts';
import type { Envelope } from '../../server/queue/types.ts';

export function fillSpool(dataDir: string, count: number, bodyBytes = 600): void {
  const msgDir = path.join(dataDir, 'queue', 'msg');
  const stateDir = path.join(dataDir, 'queue', 'state');
  mkdirSync(msgDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const now = Date.now();
  const body = Buffer.from(`Subject: bench\r\nFrom: x@example.com\r\n\r\n${'x'.repeat(bodyBytes)}\r\n`);
  for (let i = 0; i < count; i++) {
    const receivedAt = now - (count - i) * 1000;
    const env: Envelope = {
      id: newQueueId(receivedAt),
      receivedAt,
      sender: `sender${i % 977}@dept${i % 13}.example.com`,
      recipients: [`rcpt${i}@partner${i % 101}.example.net`, ...(i % 5 === 0 ? [`cc${i}@example.org`] : [])],
      client: { ip: `192.0.2.${i % 250}`, hostname: null, helo: 'client.example.com', authUser: null, tls: i % 2 === 0 },
      bodyType: '7bit',
      smtpUtf8: false,
      origin: 'smtp',
    };
    writeFileSync(path.join(msgDir, env.id), Buffer.concat([Buffer.from(JSON.stringify(env) + '\n'), body]));
    const reply = i % 3 === 0 ? '451 4.7.1 greylisted, try again later' : i % 3 === 1 ? 'connection failed: connect ECONNREFUSED 198.51.100.7:25' : '421 4.3.2 service not available';
    const recipients = env.recipients.map((address) => ({ address, status: 'deferred', attempts: 1 + (i % 4), lastAttemptAt: now - 60_000, lastReply: reply, nextHop: 'mx.example.net[198.51.100.7]:25' }));
    writeFileSync(path.join(stateDir, `${env.id}.json`), JSON.stringify({ v: 1, recipients, held: i % 50 === 0, nextAttemptAt: now + 3600_000, attempts: 1 + (i % 4), delayWarned: false }));
  }
}

/** Run the real `swaks` SMTP client and read what the server answered. */
import { execFile } from 'node:child_process';

export interface SwaksResult {
  exitCode: number;
  transcript: string;
  /** Server reply lines ("<~ " / "<** " prefixed in swaks' output), without the prefix. */
  replies: string[];
  /** The last server reply line, e.g. "250 2.0.0 Ok: queued as ...". */
  lastReply: string;
}

export interface SwaksOptions {
  server: string;
  port: number;
  from?: string;
  to: string | string[];
  /** Bind the client socket to this local address (e.g. 127.0.0.9 for an "untrusted" client). */
  localAddress?: string;
  tls?: boolean;
  tlsOnConnect?: boolean;
  auth?: { user: string; password: string; type?: 'PLAIN' | 'LOGIN' };
  headers?: string[];
  body?: string;
  /** Full raw message data (overrides headers/body). */
  data?: string;
  helo?: string;
  extra?: string[];
}

export function swaks(o: SwaksOptions): Promise<SwaksResult> {
  const args = ['--server', o.server, '--port', String(o.port), '--to', Array.isArray(o.to) ? o.to.join(',') : o.to, '--timeout', '20'];
  if (o.from !== undefined) args.push('--from', o.from);
  if (o.localAddress) args.push('--local-interface', o.localAddress);
  if (o.tls) args.push('--tls');
  if (o.tlsOnConnect) args.push('--tls-on-connect');
  if (o.auth) args.push('--auth', o.auth.type ?? 'PLAIN', '--auth-user', o.auth.user, '--auth-password', o.auth.password);
  for (const h of o.headers ?? []) args.push('--add-header', h);
  if (o.body !== undefined) args.push('--body', o.body);
  if (o.data !== undefined) args.push('--data', o.data);
  args.push('--helo', o.helo ?? 'client.test.example');
  args.push(...(o.extra ?? []));
  return new Promise((resolve) => {
    execFile('swaks', args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      // swaks exits with its own status codes; a spawn failure has a string code (ENOENT).
      const code = (err as { code?: unknown } | null)?.code;
      const exitCode = !err ? 0 : typeof code === 'number' ? code : 1;
      // Server lines: "<-  " in plaintext, "<~  " under TLS, "<** " for a failure reply.
      const replies = stdout
        .split('\n')
        .filter((l) => /^\s*<(-|~|\*\*) /.test(l))
        .map((l) => l.replace(/^\s*<(-|~|\*\*)\s*/, ''));
      resolve({ exitCode, transcript: stdout, replies, lastReply: replies[replies.length - 1] ?? '' });
    });
  });
}

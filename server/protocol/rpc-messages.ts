/**
 * Wire shapes of the control socket (SPEC §1.7): newline-delimited JSON-RPC 2.0, one message per
 * line, at most MAX_FRAME_BYTES per line.
 *
 * Session, direct (Unix socket / named pipe):
 *   server → `{"jsonrpc":"2.0","method":"hello","params":{nonce, protocol, version}}`
 *   client → `{"jsonrpc":"2.0","id":1,"method":"auth","params":{clientNonce, mac}}`
 *            mac = hex(HMAC-SHA256(key, authMessage(nonce, clientNonce))), key = the 32 bytes that
 *            DIR/control.key holds as hex
 *   server → `{"jsonrpc":"2.0","id":1,"result":{protocol, version, permission}}` — or an
 *            UNAUTHENTICATED error, and the connection closes.
 * Anything but `auth` before that is answered with UNAUTHENTICATED and the connection closes; so does
 * silence for AUTH_TIMEOUT_MS.
 *
 * Session through `mailrelay dial-stdio` (over SSH): dial-stdio does the hello/auth exchange itself
 * with the key on the relay's host and consumes it; the remote side only sees one synthetic
 * notification `{"jsonrpc":"2.0","method":"ready","params":{protocol, version, permission}}` and then
 * talks as already authenticated. If dial-stdio cannot get there (relay not running, key unreadable,
 * handshake refused) it writes one error response with `"id": null` instead and exits non-zero.
 */
import { z } from 'zod';
import { rpcErrorSchema } from './errors.ts';

/** Bumped on any incompatible change of the method table or wire shapes. */
export const PROTOCOL_VERSION = 1;

/** Hard cap of one frame (one line, newline excluded), both directions. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** A connection that has not authenticated within this time is closed. */
export const AUTH_TIMEOUT_MS = 10_000;

/** Domain-separation prefix of the MAC input: a MAC made for anything else never verifies here. */
export const AUTH_CONTEXT = 'relaydesk-control-v1';

/** The exact string both ends MAC: context, server nonce, client nonce, joined by "\n". */
export function authMessage(serverNonce: string, clientNonce: string): string {
  return `${AUTH_CONTEXT}\n${serverNonce}\n${clientNonce}`;
}

/** 32 random bytes as 64 lower-case hex digits (nonces, keys, MACs). */
export const hex32Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits (32 bytes)');

/** What a session may do: `write` includes `read`. */
export const permissionSchema = z.enum(['read', 'write']);
/** What a session may do: `write` includes `read`. */
export type Permission = z.output<typeof permissionSchema>;

/** Params of the server's opening `hello` notification. */
export const helloParamsSchema = z.object({ nonce: hex32Schema, protocol: z.number().int(), version: z.string() });
/** Params of the server's opening `hello` notification. */
export type HelloParams = z.output<typeof helloParamsSchema>;

/** Params of `ready`, sent by dial-stdio once it has authenticated on the remote side's behalf. */
export const readyParamsSchema = z.object({ protocol: z.number().int(), version: z.string(), permission: permissionSchema });
/** Params of `ready`; also the result of `auth`. */
export type ReadyParams = z.output<typeof readyParamsSchema>;

/** A JSON-RPC request id. */
export const rpcIdSchema = z.union([z.string().max(200), z.number()]);
/** A JSON-RPC request id. */
export type RpcId = z.output<typeof rpcIdSchema>;

/** A JSON-RPC request (with id) or notification (without). */
export const rpcRequestSchema = z.object({
  jsonrpc: z.literal('2.0'),
  id: rpcIdSchema.optional(),
  method: z.string().min(1).max(200),
  params: z.unknown().optional(),
});
/** A JSON-RPC request (with id) or notification (without). */
export type RpcRequest = z.output<typeof rpcRequestSchema>;

/** A JSON-RPC response: result or error. `id` is null only for errors that cannot name a request. */
export const rpcResponseSchema = z.union([
  z.object({ jsonrpc: z.literal('2.0'), id: rpcIdSchema, result: z.unknown() }),
  z.object({ jsonrpc: z.literal('2.0'), id: rpcIdSchema.nullable(), error: rpcErrorSchema }),
]);
/** A JSON-RPC response: result or error. */
export type RpcResponse = z.output<typeof rpcResponseSchema>;

/** Server → client notifications and their params schemas (`logs.event` is defined with logs). */
export const NOTIFICATION_HELLO = 'hello';
export const NOTIFICATION_READY = 'ready';
export const NOTIFICATION_LOGS_EVENT = 'logs.event';

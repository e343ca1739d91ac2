/**
 * Control API errors (SPEC §1.7): a closed set of string codes, each with a stable JSON-RPC numeric
 * code. On the wire an error is `{code: <number>, message, data: {code: <string>, issues?}}`; both
 * ends map the number back to the string with `errorCodeFromNumber`, so neither side guesses from
 * message text.
 */
import { z } from 'zod';

/** Numeric JSON-RPC codes per error code. The -326xx/-32700 ones are JSON-RPC 2.0's own. */
export const ERROR_NUMBERS = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  UNAUTHENTICATED: -32001,
  PERMISSION_DENIED: -32002,
  CONFLICT: -32003,
  NOT_FOUND: -32004,
  CONFIG_INVALID: -32005,
  BIND_FAILED: -32006,
  UNAVAILABLE: -32007,
  FRAME_TOO_LARGE: -32008,
} as const;

/** The closed set of error codes a control server may answer with. */
export type ErrorCode = keyof typeof ERROR_NUMBERS;

export const errorCodes = Object.keys(ERROR_NUMBERS) as [ErrorCode, ...ErrorCode[]];
export const errorCodeSchema = z.enum(errorCodes);

/** Codes a client raises on its own side (never sent by a server). */
export const LOCAL_ERROR_CODES = ['TIMEOUT', 'CLOSED', 'PROTOCOL_MISMATCH', 'BAD_RESPONSE'] as const;
/** A client-side failure: no answer in time, connection gone, incompatible server, reply off-contract. */
export type LocalErrorCode = (typeof LOCAL_ERROR_CODES)[number];

/** One problem with a value, at a key path like `config.listeners[0].port`. */
export const issueSchema = z.object({ path: z.string(), message: z.string() }).strict();
/** One problem with a value, at a key path. */
export type Issue = z.output<typeof issueSchema>;

/** The `data` member of every error response. */
export const errorDataSchema = z.object({ code: errorCodeSchema, issues: z.array(issueSchema).optional() });
/** The `data` member of every error response. */
export type ErrorData = z.output<typeof errorDataSchema>;

/** The JSON-RPC `error` member. */
export const rpcErrorSchema = z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() });

const byNumber = new Map<number, ErrorCode>(Object.entries(ERROR_NUMBERS).map(([k, v]) => [v, k as ErrorCode]));

/** Map a JSON-RPC numeric code back to its string code (unknown numbers count as INTERNAL). */
export function errorCodeFromNumber(n: number): ErrorCode {
  return byNumber.get(n) ?? 'INTERNAL';
}

/**
 * An error that crosses the control socket as data. Handlers throw it with the code the client should
 * see; the client throws it (with the server's code, or a local one) from `call`.
 */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly code: ErrorCode | LocalErrorCode,
    message: string,
    readonly issues?: Issue[],
  ) {
    super(message);
  }

  /** The JSON-RPC `error` member for this error (a lost or silent relay travels as UNAVAILABLE, other local codes as INTERNAL). */
  toRpcError(): { code: number; message: string; data: ErrorData } {
    const code: ErrorCode =
      this.code in ERROR_NUMBERS ? (this.code as ErrorCode) : this.code === 'CLOSED' || this.code === 'TIMEOUT' ? 'UNAVAILABLE' : 'INTERNAL';
    const data: ErrorData = this.issues ? { code, issues: this.issues } : { code };
    return { code: ERROR_NUMBERS[code], message: this.message, data };
  }

  /** Rebuild an error from a JSON-RPC `error` member received from a server. */
  static fromRpcError(err: unknown): ControlError {
    const e = rpcErrorSchema.safeParse(err);
    if (!e.success) return new ControlError('BAD_RESPONSE', 'the server sent a malformed error');
    const data = errorDataSchema.safeParse(e.data.data);
    const code = data.success ? data.data.code : errorCodeFromNumber(e.data.code);
    return new ControlError(code, e.data.message, data.success ? data.data.issues : undefined);
  }
}

/** Render a zod issue path like ["listeners", 0, "port"] as "listeners[0].port". */
export function formatIssuePath(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of p) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(root)';
}

/** Turn a zod error into key-path issues a person can act on; `prefix` roots them (e.g. "params"). */
export function issuesFromZod(error: z.ZodError, prefix: ReadonlyArray<PropertyKey> = []): Issue[] {
  return error.issues.map((i) => {
    const message = i.code === 'unrecognized_keys' ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message;
    return { path: formatIssuePath([...prefix, ...i.path]), message };
  });
}

/** Parse `input` with `schema`; on failure throw a ControlError with `code` and every key path. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, code: ErrorCode, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = issuesFromZod(r.error);
  throw new ControlError(code, `${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}

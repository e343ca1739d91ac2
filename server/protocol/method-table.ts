/**
 * The control API's one method table (SPEC §1.7): name, params schema, result schema, permission and
 * a doc line per method. The server dispatches from it, the client derives its types from it, and
 * nothing about a method is written anywhere else.
 */
import { z } from 'zod';
import { configApplyParams, configApplyResult, configGetResult, configValidateParams, configValidateResult } from './config-contract.ts';
import { logsQueryParams, logsQueryResult, logsSubscribeParams, logsSubscribeResult, logsUnsubscribeResult } from './logs-contract.ts';
import { queueAffectedResult, queueListParams, queueListResult, queueSelectionParams, queueShowParams, queueShowResult } from './queue-contract.ts';
import { hex32Schema, readyParamsSchema, type Permission } from './rpc-messages.ts';
import { dnsCheckResult, noParams, serviceReloadResult, serviceStopResult, statusResult, testSendParams, testSendResult } from './service-contract.ts';
import { statsGetParams, statsGetResult } from './stats-contract.ts';
import {
  usersAddParams,
  usersAddResult,
  usersListResult,
  usersRemoveParams,
  usersRemoveResult,
  usersSetPasswordParams,
  usersSetPasswordResult,
} from './users-contract.ts';

/** One method of the control API. */
export interface MethodDef<N extends string = string, P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly name: N;
  readonly params: P;
  readonly result: R;
  /** `read` methods are open to every authenticated session; `write` ones need a write session. */
  readonly permission: Permission;
  readonly doc: string;
}

function method<const N extends string, P extends z.ZodType, R extends z.ZodType>(def: MethodDef<N, P, R>): MethodDef<N, P, R> {
  return def;
}

/** Parameters of `auth`, the handshake's only request (see rpc-messages.ts). */
export const authParams = z.object({ clientNonce: hex32Schema, mac: hex32Schema }).strict();

const methodList = [
  method({ name: 'auth', params: authParams, result: readyParamsSchema, permission: 'read', doc: 'Answer the server nonce with an HMAC over both nonces; the only method before authentication.' }),
  method({ name: 'status', params: noParams, result: statusResult, permission: 'read', doc: 'Version, uptime, listeners and queue counts.' }),
  method({ name: 'config.get', params: noParams, result: configGetResult, permission: 'read', doc: 'The running config (relay-host passwords redacted) and its revision.' }),
  method({ name: 'config.validate', params: configValidateParams, result: configValidateResult, permission: 'read', doc: 'Check a config without applying it; lists every problem with its key path.' }),
  method({ name: 'config.apply', params: configApplyParams, result: configApplyResult, permission: 'write', doc: 'Validate, save and activate a config; CONFLICT when baseRevision is stale, BIND_FAILED (rolled back) when a listener cannot bind.' }),
  method({ name: 'queue.list', params: queueListParams, result: queueListResult, permission: 'read', doc: 'A page of queued messages in a state, narrowed by a filter, oldest first.' }),
  method({ name: 'queue.show', params: queueShowParams, result: queueShowResult, permission: 'read', doc: 'One message: envelope, headers, per-recipient state; NOT_FOUND when gone.' }),
  method({ name: 'queue.retry', params: queueSelectionParams, result: queueAffectedResult, permission: 'write', doc: 'Schedule the selected messages for immediate delivery.' }),
  method({ name: 'queue.hold', params: queueSelectionParams, result: queueAffectedResult, permission: 'write', doc: 'Hold the selected messages: no delivery until released.' }),
  method({ name: 'queue.release', params: queueSelectionParams, result: queueAffectedResult, permission: 'write', doc: 'Release held messages back into the schedule.' }),
  method({ name: 'queue.delete', params: queueSelectionParams, result: queueAffectedResult, permission: 'write', doc: 'Remove the selected messages without a bounce.' }),
  method({ name: 'queue.bounce', params: queueSelectionParams, result: queueAffectedResult, permission: 'write', doc: 'Fail the selected messages now and send the bounces.' }),
  method({ name: 'queue.flush', params: noParams, result: queueAffectedResult, permission: 'write', doc: 'Try every deferred (not held) message now.' }),
  method({ name: 'logs.query', params: logsQueryParams, result: logsQueryResult, permission: 'read', doc: 'Search the event log, newest first.' }),
  method({ name: 'logs.subscribe', params: logsSubscribeParams, result: logsSubscribeResult, permission: 'read', doc: 'Push matching log lines to this connection as logs.event notifications.' }),
  method({ name: 'logs.unsubscribe', params: noParams, result: logsUnsubscribeResult, permission: 'read', doc: 'Stop the logs.event notifications of this connection.' }),
  method({ name: 'stats.get', params: statsGetParams, result: statsGetResult, permission: 'read', doc: 'Counters and queue size per bucket between two times.' }),
  method({ name: 'users.list', params: noParams, result: usersListResult, permission: 'read', doc: 'SMTP AUTH users (never their hashes).' }),
  method({ name: 'users.add', params: usersAddParams, result: usersAddResult, permission: 'write', doc: 'Add an SMTP AUTH user; CONFLICT when the name exists.' }),
  method({ name: 'users.remove', params: usersRemoveParams, result: usersRemoveResult, permission: 'write', doc: 'Remove an SMTP AUTH user; NOT_FOUND when absent.' }),
  method({ name: 'users.setPassword', params: usersSetPasswordParams, result: usersSetPasswordResult, permission: 'write', doc: "Replace a user's password; NOT_FOUND when absent." }),
  method({ name: 'test.send', params: testSendParams, result: testSendResult, permission: 'write', doc: 'Send a test message through the real route and return the SMTP transcript.' }),
  method({ name: 'dns.check', params: noParams, result: dnsCheckResult, permission: 'read', doc: 'Check the DNS records of the relay-domain setup and say what to fix.' }),
  method({ name: 'service.reload', params: noParams, result: serviceReloadResult, permission: 'write', doc: 'Re-read the config file without dropping sessions (like SIGHUP).' }),
  method({ name: 'service.stop', params: noParams, result: serviceStopResult, permission: 'write', doc: 'Stop the relay cleanly (like SIGTERM); answers first.' }),
] as const;

type MethodList = typeof methodList;
/** The method table, keyed by name. */
export type Methods = { [D in MethodList[number] as D['name']]: D };
/** Every method name of the control API, `auth` included. */
export type MethodName = keyof Methods;
/** What a caller may pass (defaults still open). */
export type MethodParams<N extends MethodName> = z.input<Methods[N]['params']>;
/** What a handler receives (validated, defaults filled). */
export type ParsedParams<N extends MethodName> = z.output<Methods[N]['params']>;
/** What a method returns. */
export type MethodResult<N extends MethodName> = z.output<Methods[N]['result']>;

/**
 * Build a table from a method list; a name given twice is an error (like Tailscale's LocalAPI
 * registry), so two definitions can never silently shadow each other.
 */
export function buildMethodTable<const L extends readonly MethodDef[]>(list: L): ReadonlyMap<string, L[number]> {
  const table = new Map<string, L[number]>();
  for (const def of list) {
    if (table.has(def.name)) throw new Error(`control method "${def.name}" is registered twice`);
    table.set(def.name, def);
  }
  return table;
}

const table = buildMethodTable(methodList);

/** Every method, in table order. */
export const METHODS: Methods = Object.fromEntries(table) as Methods;

/** Look a method up by a name received from the wire; undefined for unknown names (incl. "__proto__"). */
export function findMethod(name: string): MethodDef | undefined {
  return table.get(name);
}

/** Every method name, in table order. */
export const methodNames = [...table.keys()] as MethodName[];

/** Whether a session with `granted` may call a method needing `needed`. */
export function permits(granted: Permission, needed: Permission): boolean {
  return granted === 'write' || needed === 'read';
}

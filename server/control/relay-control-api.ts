/**
 * What the control server needs from the relay: one async function per contract method (keyed by
 * the method's name, params already validated, result checked against the contract in tests), plus
 * the live log feed for `logs.subscribe`. `auth`, `logs.subscribe` and `logs.unsubscribe` are handled
 * by the control server itself. Handlers fail with `ControlError` (code + actionable message); any
 * other error reaches the client as INTERNAL.
 */
import type { Envelope, MessageState, RecipientState } from '../queue/types.ts';
import type { RelayEventName } from '../logging/relay-log.ts';
import type { LogLine, MethodName, MethodResult, ParsedParams, QueueDetail, QueueSummary, relayEventNames } from '../protocol/index.ts';

/** Methods the control server answers itself. */
export type SessionMethodName = 'auth' | 'logs.subscribe' | 'logs.unsubscribe';
/** Methods the relay answers through RelayControlApi. */
export type ApiMethodName = Exclude<MethodName, SessionMethodName>;

/** One handler per relay method: parsed params in, contract result out. */
export type RelayControlHandlers = { [N in ApiMethodName]: (params: ParsedParams<N>) => Promise<MethodResult<N>> };

/** The relay as the control server sees it. */
export interface RelayControlApi extends RelayControlHandlers {
  /** Call `listener` with every line the relay logs from now on; returns the unsubscribe function. */
  subscribeLogs(listener: (line: LogLine) => void): () => void;
}

// Compile-time ties between the contract and the relay's own types: if either side changes, this
// file stops compiling instead of the wire shapes drifting apart silently.
type Assert<T extends true> = T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type _EnvelopeMatches = Assert<Envelope extends QueueDetail['envelope'] ? true : false>;
export type _RecipientMatches = Assert<RecipientState extends QueueDetail['recipients'][number] ? true : false>;
export type _StateMatches = Assert<Same<MessageState, QueueSummary['state']>>;
export type _EventNamesMatch = Assert<Same<RelayEventName, (typeof relayEventNames)[number]>>;

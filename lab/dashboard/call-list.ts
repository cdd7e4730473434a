import { CALL_STATES, stateChanges, type CallRecord, type CallState } from '../../contracts/call-record.js';

/** The live list of calls the dashboard shows, from the call records (the calls table), newest first. */

export interface CallListEntry {
  readonly callId: string;
  readonly state: CallState;
  readonly to: string | undefined;
  readonly createdAt: string;
  /** The failure's code, for a FAILED call. */
  readonly failure: string | undefined;
  /** The state changes, oldest first. */
  readonly history: readonly { readonly state: CallState; readonly at: string; readonly detail: string | undefined }[];
}

export interface CallsView {
  /** Calls in each state now (every state, zero included). */
  readonly byState: Readonly<Record<CallState, number>>;
  readonly calls: readonly CallListEntry[];
}

/** The view of the given records: counts by state, and the newest `limit` calls. */
export function callsView(records: readonly CallRecord[], limit = 50): CallsView {
  const byState = Object.fromEntries(CALL_STATES.map((state) => [state, 0])) as Record<CallState, number>;
  for (const record of records) byState[record.state]++;
  const calls = [...records]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .slice(0, limit)
    .map((record) => ({
      callId: record.callId,
      state: record.state,
      to: record.to ?? record.request?.to,
      createdAt: record.createdAt,
      failure: record.failure?.code,
      history: stateChanges(record.history).map((entry) => ({ state: entry.state, at: entry.at, detail: entry.detail })),
    }));
  return { byState, calls };
}

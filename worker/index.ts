/**
 * roomline: bridge WebRTC rooms to SIP phones. The client library: put dial requests on the queue, read call records,
 * ask for hangups. The types and schemas of the dial request and the call record come with it.
 */
export {
  RoomlineClient,
  enqueueDial,
  getCall,
  requestHangup,
  sendDtmf,
  hold,
  resume,
  transfer,
  type ClientOptions,
} from './client.js';
export { callControlSchema, parseCallControl, type CallControl } from '../contracts/call-control.js';
export {
  parseDialRequest,
  safeParseDialRequest,
  dialRequestSchema,
  type DialRequest,
  type DialRequestInput,
} from '../contracts/dial-request.js';
export {
  CALL_STATES,
  isFinalState,
  type CallRecord,
  type CallState,
  type CallHistoryEntry,
  type CallEvent,
  type CallControlRequest,
  type EndedBy,
  type QualitySummary,
} from '../contracts/call-record.js';
export { RoomlineError, ERROR_CODES, type ErrorCode, type FailureInfo, type Fault } from '../contracts/errors.js';

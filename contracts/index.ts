/** Contracts shared by the worker, the client and the bot page: types and schemas only, no Node or DOM imports. */
export * from './errors.js';
export * from './sip-codes.js';
export * from './telephony.js';
export * from './dial-request.js';
export * from './call-record.js';
export * from './setup-trace.js';
export * from './call-control.js';
export * from './page-rpc.js';
export * from './rooms/index.js';
export * from './sip-uri.js';
export * from './egress-policy.js';
export * from './untrusted-input.js';
export * from './text.js';

import { quoteForMessage } from './text.js';

/**
 * The first look at anything a caller sends, before any schema: is it plain JSON data of a bounded size? A schema
 * then says whether it is a valid request. This pass is what keeps hostile input from costing more than its size:
 * depth, node count and string lengths are bounded, prototype keys are refused wherever they appear (a parser or
 * schema that builds objects by assignment would otherwise drop them silently, or worse, set a prototype), and values
 * JSON cannot carry (functions, class instances, cycles, getters, non-finite numbers) are refused rather than
 * coerced. It walks iteratively, so no input can exhaust the stack.
 */

export interface UntrustedInputLimits {
  /** Deepest nesting of objects and arrays (the top level is depth 1). */
  readonly maxDepth: number;
  /** Most values in all (objects, arrays, strings, numbers...), the top level included. */
  readonly maxNodes: number;
  /** Longest string value. */
  readonly maxStringLength: number;
  /** Longest object key. */
  readonly maxKeyLength: number;
}

/** Bounds for a dial request: several times what the largest valid request needs, far below what harms. */
export const DIAL_REQUEST_INPUT_LIMITS: UntrustedInputLimits = {
  maxDepth: 8,
  maxNodes: 1_000,
  maxStringLength: 4_096,
  maxKeyLength: 128,
};

/** Keys that name or reach an object's prototype: refused wherever they appear. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export interface InputIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** What is wrong with `value` as untrusted JSON data; empty when nothing is. Stops at the first 10 problems. */
export function checkUntrustedInput(value: unknown, limits: UntrustedInputLimits = DIAL_REQUEST_INPUT_LIMITS): InputIssue[] {
  try {
    return walk(value, limits);
  } catch {
    // e.g. a Proxy whose traps throw: whatever it is, it is not plain data
    return [{ path: [], message: 'could not be read as plain JSON data' }];
  }
}

function walk(value: unknown, limits: UntrustedInputLimits): InputIssue[] {
  const issues: InputIssue[] = [];
  const seen = new WeakSet<object>();
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  let nodes = 0;
  while (stack.length > 0 && issues.length < 10) {
    const { value: current, path } = stack.pop()!;
    nodes += 1;
    if (nodes > limits.maxNodes) {
      issues.push({ path: [], message: `too large: more than ${limits.maxNodes} values in all` });
      break;
    }
    const problem = describeScalar(current, limits);
    if (problem !== undefined) {
      if (problem !== 'ok') issues.push({ path, message: problem });
      continue;
    }
    const object = current as object;
    if (seen.has(object)) {
      issues.push({ path, message: 'refers back to itself (a cycle is not JSON)' });
      continue;
    }
    seen.add(object);
    if (path.length + 1 > limits.maxDepth) {
      issues.push({ path, message: `nested too deeply (at most ${limits.maxDepth} levels)` });
      continue;
    }
    if (Array.isArray(object)) {
      for (let i = object.length - 1; i >= 0; i--) stack.push({ value: object[i], path: [...path, i] });
      if (object.length > limits.maxNodes) issues.push({ path, message: `too long: ${object.length} items` });
      continue;
    }
    const prototype = Object.getPrototypeOf(object) as unknown;
    if (prototype !== Object.prototype && prototype !== null) {
      issues.push({ path, message: 'must be plain JSON data (an object, not a class instance)' });
      continue;
    }
    if (Object.getOwnPropertySymbols(object).length > 0) {
      issues.push({ path, message: 'must not have symbol keys' });
      continue;
    }
    const keys = Object.getOwnPropertyNames(object);
    if (keys.length > limits.maxNodes) {
      issues.push({ path, message: `too many fields: ${keys.length}` });
      continue;
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      if (PROTOTYPE_KEYS.has(key)) {
        issues.push({ path: [...path, key], message: 'a prototype key is not allowed anywhere' });
        continue;
      }
      if (key.length > limits.maxKeyLength) {
        issues.push({ path: [...path, key], message: `field name longer than ${limits.maxKeyLength} characters` });
        continue;
      }
      const descriptor = Object.getOwnPropertyDescriptor(object, key);
      if (descriptor === undefined || !('value' in descriptor)) {
        issues.push({ path: [...path, key], message: 'must be a plain value, not a getter' });
        continue;
      }
      // a field set to undefined is an absent field, as JSON.stringify and the schema take it
      if (descriptor.value === undefined) continue;
      stack.push({ value: descriptor.value as unknown, path: [...path, key] });
    }
  }
  return issues;
}

/** 'ok' for a JSON scalar, a problem for anything JSON cannot carry, undefined for an object or array to descend. */
function describeScalar(value: unknown, limits: UntrustedInputLimits): string | undefined {
  switch (typeof value) {
    case 'string':
      return value.length > limits.maxStringLength ? `text longer than ${limits.maxStringLength} characters` : 'ok';
    case 'number':
      return Number.isFinite(value) ? 'ok' : 'must be a finite number';
    case 'boolean':
      return 'ok';
    case 'object':
      return value === null ? 'ok' : undefined;
    case 'undefined':
      return 'must be a JSON value (undefined is not one)';
    case 'bigint':
    case 'symbol':
    case 'function':
      return `must be a JSON value (a ${typeof value} is not one)`;
    default:
      return 'must be a JSON value';
  }
}

/** Caps on how a list of problems is told: a reason never grows with its input. */
export const REASON_LIMITS = {
  /** Problems told one by one; more are counted. */
  maxIssues: 10,
  /** Longest message of one problem. */
  maxMessageLength: 200,
  /** Longest reason in all. */
  maxReasonLength: 2_000,
} as const;

/**
 * A path such as `headers.X-Meeting-Id` or `media.splitIncoming.tiles.0.x`; a segment that is not a plain name is
 * quoted and cut (callers choose keys: a key may be long, or carry a line break).
 */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(request)';
  const shown = path.slice(0, 8).map((segment) => {
    if (typeof segment === 'number') return String(segment);
    const text = String(segment);
    return /^[A-Za-z0-9_-]{1,64}$/.test(text) ? text : quoteForMessage(text);
  });
  return path.length > 8 ? `${shown.join('.')}.…` : shown.join('.');
}

/** `path: message` for each problem, bounded by {@link REASON_LIMITS} whatever the number and size of problems. */
export function summariseIssues(issues: readonly InputIssue[]): string {
  const told = issues.slice(0, REASON_LIMITS.maxIssues).map((issue) => {
    const message = issue.message.length > REASON_LIMITS.maxMessageLength ? `${issue.message.slice(0, REASON_LIMITS.maxMessageLength)}…` : issue.message;
    return `${formatPath(issue.path)}: ${message}`;
  });
  const more = issues.length - told.length;
  const reason = `${told.join('; ')}${more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : ''}`;
  return reason.length > REASON_LIMITS.maxReasonLength ? `${reason.slice(0, REASON_LIMITS.maxReasonLength)}…` : reason;
}

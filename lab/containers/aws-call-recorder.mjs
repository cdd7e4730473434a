// An instrument of the image tests, loaded into a worker container with NODE_OPTIONS=--import=<this file>: it adds
// an AWS SDK middleware to every SDK client the worker makes and appends one JSON line per API call to the file
// named by ROOMLINE_LAB_AWS_CALLS: the client, the command, the resources it named, and whether it succeeded. The
// image tests compare these calls with the task role of the synthesized template. Plain JavaScript: it runs in the
// container's Node, beside the built worker, and reads nothing of the worker's code.
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const output = process.env.ROOMLINE_LAB_AWS_CALLS;
const MARK = Symbol.for('roomline.lab.awsCallRecorder');
const NAME = 'roomlineLabAwsCallRecorder';

/** The resources a call names (the inputs IAM evaluates resources from). */
function resourcesOf(input) {
  if (input === null || typeof input !== 'object') return {};
  const picked = {};
  for (const key of ['QueueUrl', 'TableName', 'IndexName', 'SecretId', 'MeetingId']) {
    if (typeof input[key] === 'string') picked[key] = input[key];
  }
  if (input.RequestItems !== null && typeof input.RequestItems === 'object') picked.RequestItems = Object.keys(input.RequestItems);
  if (Array.isArray(input.TransactItems)) {
    picked.TransactItems = input.TransactItems.map((item) => {
      const [kind, body] = Object.entries(item)[0] ?? [];
      return { kind, TableName: body?.TableName };
    });
  }
  return picked;
}

function record(entry) {
  try {
    appendFileSync(output, `${JSON.stringify(entry)}\n`);
  } catch {
    // an instrument never breaks the worker
  }
}

const middleware = (next, context) => async (args) => {
  const entry = { at: Date.now(), client: context.clientName, command: context.commandName, resources: resourcesOf(args.input) };
  try {
    const result = await next(args);
    record({ ...entry, ok: true });
    return result;
  } catch (error) {
    record({ ...entry, ok: false, error: error?.name ?? String(error) });
    throw error;
  }
};

function patch(Client) {
  if (typeof Client?.prototype?.send !== 'function' || Client.prototype[MARK] === true) return false;
  const send = Client.prototype.send;
  Client.prototype[MARK] = true;
  Client.prototype.send = function (...args) {
    if (this[MARK] !== 'added') {
      this[MARK] = 'added';
      try {
        this.middlewareStack.add(middleware, { step: 'initialize', name: NAME, priority: 'high' });
      } catch {
        // a client sharing another's middleware stack (the DynamoDB document client) has it already
      }
    }
    return send.apply(this, args);
  };
  return true;
}

/** Every copy of the SDK's client base class under the app's node_modules (nested copies included). */
function patchEveryCopy(root) {
  const require = createRequire(join(root, 'package.json'));
  let patched = 0;
  const tryPatch = (file) => {
    try {
      if (existsSync(file) && patch(require(file).Client)) patched += 1;
    } catch {
      // not a client module after all
    }
  };
  const visitPackage = (scope, name, dir, depth) => {
    if (scope === '@smithy' && name === 'core') tryPatch(join(dir, 'dist-cjs', 'submodules', 'client', 'index.js'));
    if (scope === '@smithy' && name === 'smithy-client') tryPatch(join(dir, 'dist-cjs', 'index.js'));
    visitModules(join(dir, 'node_modules'), depth + 1);
  };
  const visitModules = (dir, depth) => {
    if (depth > 5 || !existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (!entry.name.startsWith('@')) {
        visitPackage(undefined, entry.name, join(dir, entry.name), depth);
        continue;
      }
      for (const pkg of readdirSync(join(dir, entry.name), { withFileTypes: true })) {
        if (pkg.isDirectory()) visitPackage(entry.name, pkg.name, join(dir, entry.name, pkg.name), depth);
      }
    }
  };
  visitModules(join(root, 'node_modules'), 0);
  return patched;
}

if (output !== undefined && output !== '') {
  const patched = patchEveryCopy(process.cwd());
  record({ at: Date.now(), instrument: NAME, patchedClientClasses: patched });
}

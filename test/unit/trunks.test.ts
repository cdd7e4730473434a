import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrunkFile } from '../../worker/trunks.js';

const PASSWORD = 'correct horse battery staple';
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roomline-trunks-'));
  file = join(dir, 'trunks.json');
  await writeFile(
    file,
    JSON.stringify({
      pstn: {
        proxy: 'sip:sip.trunk.example.com',
        username: 'sip:roomline@trunk.example.com',
        password: PASSWORD,
        outboundProxy: 'sip:edge.trunk.example.com:5060;transport=tcp',
        transport: 'tcp',
        srtp: 'optional',
        audioCodecs: ['PCMU', 'PCMA'],
        dtmf: 'info',
      },
      minimal: { proxy: 'sip:pbx.example.com', username: 'sip:bridge@pbx.example.com', password: PASSWORD },
      broken: { proxy: 'sip:pbx.example.com', username: 'sip:bridge@pbx.example.com', password: PASSWORD, audioCodecs: ['GSM'] },
    }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SIP trunks from a file', () => {
  it("reads a trunk's credentials and settings, and the SIP account the leg registers with", async () => {
    const trunk = await new TrunkFile(file).get('pstn');

    expect(trunk).toMatchObject({ transport: 'tcp', srtp: 'optional', audioCodecs: ['PCMU', 'PCMA'], dtmf: 'info', register: false });
    expect(trunk.toSipAccount()).toEqual({
      username: 'sip:roomline@trunk.example.com',
      secret: PASSWORD,
      proxy: 'sip:sip.trunk.example.com',
      register: false,
      outboundProxy: 'sip:edge.trunk.example.com:5060;transport=tcp',
      transport: 'tcp',
    });
  });

  it('fills in the defaults of a minimal trunk: UDP, no REGISTER, settings left to the request', async () => {
    const trunk = await new TrunkFile(file).get('minimal');

    expect(trunk).toMatchObject({ transport: 'udp', register: false, srtp: undefined, audioCodecs: undefined, dtmf: undefined });
  });

  it('never prints the password', async () => {
    const trunk = await new TrunkFile(file).get('pstn');

    for (const text of [JSON.stringify(trunk), inspect(trunk), JSON.stringify({ trunk })]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).toContain('[redacted]');
    }
  });

  it('reports an unknown trunk as TRUNK_UNKNOWN, an invalid one by field, a missing file without a retry', async () => {
    const trunks = new TrunkFile(file);

    await expect(trunks.get('nobody')).rejects.toMatchObject({ code: 'TRUNK_UNKNOWN', retryable: false });
    await expect(trunks.get('broken')).rejects.toThrow(/trunk "broken" is invalid: audioCodecs\.0: /);
    await expect(trunks.get('broken')).rejects.not.toThrow(PASSWORD);
    await expect(new TrunkFile(join(dir, 'missing.json')).get('pstn')).rejects.toMatchObject({ code: 'INTERNAL', retryable: false });
    // a trunk named like an object's own properties is not a trunk
    await expect(trunks.get('constructor')).rejects.toMatchObject({ code: 'TRUNK_UNKNOWN' });
  });
});

// The core end-to-end tests and the Knot differential over node:dgram (--io dgram). The rest of
// the suite runs on the default, batched UDP (native/udp-batch), so both paths pass the same tests
// without every file running twice.

process.env.GSLBD_IO = 'dgram';

await import('./core-answers.test.ts');
await import('./core-edns.test.ts');
await import('./core-header.test.ts');
await import('./core-negative.test.ts');
await import('./core-referrals.test.ts');
await import('./differential.test.ts');

const { describe, expect, it } = await import('vitest');
const { startGslbd, ROOT } = await import('../helpers/gslbd.ts');

describe('GSLBD_IO=dgram', () => {
  it('has the servers of this file read UDP through node:dgram', async () => {
    const s = await startGslbd(['--zones', `${ROOT}/zones`]);
    try {
      expect(s.logs.find((l) => l.msg === 'listening')).toMatchObject({ io: 'dgram' });
    } finally {
      await s.stop();
    }
  });
});

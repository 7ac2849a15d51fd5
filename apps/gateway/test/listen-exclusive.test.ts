/** Listening takes the port exclusively: a second gateway on a port in use fails instead of silently sharing it (SO_REUSEPORT). */
import { expect, it } from 'vitest';
import { createMemoryEngine } from '@taskpulse/engine';
import { freePort } from '@taskpulse/testkit';
import { testLogger } from '@taskpulse/testkit/engines';
import { createGateway, GatewayListenError } from '../src/index';
it('refuses a port another gateway listens on', async () => {
  const port = await freePort();
  const a = createGateway({ engine: createMemoryEngine(), logger: testLogger });
  const b = createGateway({ engine: createMemoryEngine(), logger: testLogger });
  await a.listen(port, '127.0.0.1');
  await expect(b.listen(port, '127.0.0.1')).rejects.toBeInstanceOf(GatewayListenError);
  await a.close(); await b.close();
});

import { createFakeWix, listenLocal, type FakeWix } from '../../src/sandbox/fake-wix.ts';
import { TEST_APP_ID, TEST_APP_SECRET } from './registry.ts';

export interface RunningFakeWix {
  fake: FakeWix;
  url: string;
  close(): Promise<void>;
}

/** The fake Wix served over real HTTP on 127.0.0.1, accepting the test app's credentials. */
export async function startFakeWix(options: { nowSec?: () => number; tokenTtlSec?: number } = {}): Promise<RunningFakeWix> {
  const fake = createFakeWix({ appId: TEST_APP_ID, appSecret: TEST_APP_SECRET, ...options });
  const { url, close } = await listenLocal(fake.app);
  return { fake, url, close };
}

import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type * as client from '../../client/src/index.ts';
import type { accessTokenSchema, eventSchema, installationDetailSchema, installationPageSchema, installationSchema } from '../../src/http/api-schemas.ts';
import type { Installation as SerializedInstallation } from '../../src/installations/serialize.ts';

// The package's types are written out by hand (it cannot import the registry's zod schemas, which
// would pull zod into every service). These assertions are checked by `npm run typecheck`: a
// field added to, removed from or retyped in the registry's answers fails the build until the
// client's types follow.
describe("the client's types mirror the registry's answers", () => {
  it('Installation, Event, pages, detail and access token', () => {
    expectTypeOf<client.Installation>().toEqualTypeOf<z.infer<typeof installationSchema>>();
    expectTypeOf<client.Installation>().toEqualTypeOf<SerializedInstallation>();
    expectTypeOf<client.InstallationEvent>().toEqualTypeOf<z.infer<typeof eventSchema>>();
    expectTypeOf<client.InstallationPage>().toEqualTypeOf<z.infer<typeof installationPageSchema>>();
    expectTypeOf<client.InstallationDetail>().toEqualTypeOf<z.infer<typeof installationDetailSchema>>();
    expectTypeOf<client.AccessToken>().toEqualTypeOf<z.infer<typeof accessTokenSchema>>();
  });
});

import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type * as client from '../../client/src/index.ts';
import type {
  accessTokenSchema,
  changePageSchema,
  changeSchema,
  eventSchema,
  installationDetailSchema,
  installationPageSchema,
  installationSchema,
} from '../../src/http/api-schemas.ts';
import type { CHANGE_TYPES } from '../../src/changes/model.ts';
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

  it('Change, its types and a page of GET /v1/changes', () => {
    expectTypeOf<client.ChangeType>().toEqualTypeOf<(typeof CHANGE_TYPES)[number]>();
    expectTypeOf<client.Change>().toEqualTypeOf<z.infer<typeof changeSchema>>();
    expectTypeOf<client.ChangePage>().toEqualTypeOf<z.infer<typeof changePageSchema>>();
  });
});

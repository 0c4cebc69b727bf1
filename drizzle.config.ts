import { defineConfig } from 'drizzle-kit';

// Migrations are generated from src/db/schema and committed; they are applied by the
// application itself (src/db/migrate.ts), never with `drizzle-kit push`.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema/index.ts',
  out: './migrations',
});

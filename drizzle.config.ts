import { defineConfig } from 'drizzle-kit';

// SQLite. Migrations are generated from src/db/sqlite/schema and committed; the application
// applies them itself (src/db/sqlite/migrate.ts), never `drizzle-kit push`.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/sqlite/schema/index.ts',
  out: './migrations/sqlite',
});

import { defineConfig } from 'drizzle-kit';

// PostgreSQL. Migrations are generated from src/db/postgres/schema and committed; the application
// applies them itself under an advisory lock (src/db/postgres/migrate.ts), never `drizzle-kit push`.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/postgres/schema/index.ts',
  out: './migrations/postgres',
});

#!/usr/bin/env node
// Keeps the architecture honest (house-style.md, rule 1): HTTP routes and middleware parse,
// check and map errors; they do not talk to the database. Fails listing every offending import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const isRouteLayer = (file) => /(^|\/)(routes|[a-z-]+-routes)\.tsx?$/.test(file) || file.includes('/http/') || file.includes('/dashboard/');
const forbidden = [/from ['"]drizzle-orm/, /from ['"]better-sqlite3['"]/, /from ['"][./]+\/db\/(client|schema)/];

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (/\.tsx?$/.test(name)) yield path;
  }
}

const problems = [];
for (const file of walk(join(root, 'src'))) {
  const rel = relative(root, file);
  if (!isRouteLayer(rel)) continue;
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (/^\s*import\b/.test(line) && !/^\s*import type\b/.test(line) && forbidden.some((re) => re.test(line))) problems.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
}
if (problems.length > 0) {
  console.error('Route-layer files must not import the database (use a service):');
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log('layers ok');

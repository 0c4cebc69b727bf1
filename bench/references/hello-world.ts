/**
 * Hono's hello world on @hono/node-server: the ceiling for any Hono route on this machine, which
 * the token API's rate is compared against.
 *
 *   node bin/run-ts.js bench/references/hello-world.ts [--port=N]
 *
 * Prints {"port":N} on stdout when listening on 127.0.0.1.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { announce, exitWith, portFromArgs } from './common.ts';

const app = new Hono();
app.get('/', (c) => c.text('Hello Hono!'));

const server = serve({ fetch: app.fetch, port: portFromArgs(), hostname: '127.0.0.1' }, (info: AddressInfo) => announce(info.port));
exitWith(server);

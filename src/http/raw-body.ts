import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { AppError } from '../errors.ts';

/**
 * The request body as text, refused with 413 past `maxBytes` (by Content-Length up front, or
 * while reading). Under @hono/node-server it reads Node's request stream directly: building a
 * web `Request` just to read a few KiB cost more than verifying the webhook (see bench/).
 * Elsewhere (app.request() in tests) it reads the web Request.
 */
export async function readTextBody(c: Context, maxBytes: number): Promise<string> {
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  if (incoming && !incoming.readableDidRead && !incoming.readableEnded) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of incoming as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop reading; the 413 answer closes the connection.
        c.header('Connection', 'close');
        throw tooLarge(maxBytes);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }
  const buffer = await c.req.arrayBuffer();
  if (buffer.byteLength > maxBytes) throw tooLarge(maxBytes);
  return Buffer.from(buffer).toString('utf8');
}

function tooLarge(maxBytes: number): AppError {
  return new AppError('payload_too_large', `Body exceeds ${maxBytes} bytes`);
}

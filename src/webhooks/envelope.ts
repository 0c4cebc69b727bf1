import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { WixEvent } from '../installations/model.ts';

// The Wix app-instance webhook envelope (docs/wix-protocol.md §1): JWT claims `data` is a JSON string
// (layer A) whose `data` (layer B) and `identity` (layer C) are JSON strings again. The event
// it yields is the installations domain's own type.
export type { WixEvent };

/** The latest instant a JavaScript Date represents (+275760-09-13), in epoch seconds. */
const MAX_IAT_SEC = 8_640_000_000_000;

const jsonObject = z.record(z.string(), z.unknown());

const layerA = z.object({
  eventType: z.string().min(1),
  // Wix's instance ids are UUIDs; one with a control character is malformed (and U+0000 is
  // something PostgreSQL's text cannot store): refused with 400, never stored.
  instanceId: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\u0000-\u001f]+$/, 'has a control character'),
  data: z.string().optional(),
  identity: z.string().optional(),
  accountInfo: jsonObject.optional(),
});

const claimsSchema = z.object({
  data: z.string({ message: 'claim "data" must be a JSON string' }),
  // Epoch seconds a JavaScript Date can hold: a time the registry can store, fold and print.
  iat: z
    .number({ message: 'claim "iat" must be a number' })
    .finite()
    .nonnegative()
    .max(MAX_IAT_SEC, { message: 'claim "iat" is not a representable time' }),
});

/** Parses verified claims into a WixEvent, or throws AppError('malformed_envelope'). */
export function parseWixEnvelope(claims: Record<string, unknown>): WixEvent {
  const top = claimsSchema.safeParse(claims);
  if (!top.success) throw malformed(top.error.issues[0]?.message ?? 'bad claims');
  const a = layerA.safeParse(parseJsonString(top.data.data, 'data'));
  if (!a.success) {
    const issue = a.error.issues[0];
    throw malformed(`${issue?.path.join('.') || 'data'}: ${issue?.message ?? 'invalid'}`);
  }
  return {
    eventType: a.data.eventType,
    instanceId: a.data.instanceId,
    issuedAt: Math.round(top.data.iat * 1000),
    data: a.data.data === undefined ? {} : asObject(parseJsonString(a.data.data, 'data.data'), 'data.data'),
    identity: a.data.identity === undefined ? undefined : asObject(parseJsonString(a.data.identity, 'data.identity'), 'data.identity'),
    accountInfo: a.data.accountInfo,
  };
}

function parseJsonString(value: string, where: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw malformed(`${where} is not a JSON string`);
  }
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  const parsed = jsonObject.safeParse(value);
  if (!parsed.success) throw malformed(`${where} is not a JSON object`);
  return parsed.data;
}

function malformed(message: string): AppError {
  return new AppError('malformed_envelope', `Malformed Wix webhook envelope: ${message}`);
}

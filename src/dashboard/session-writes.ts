/**
 * The dashboard's writes (transaction scripts over the engine's statements, src/db/store.ts):
 * its session secret in registry_state, and its sessions. No imports beyond types: this runs on
 * the SQLite writer thread.
 */
import type { WriteStatements } from '../db/store.ts';

/** registry_state name of the secret that signs session cookies and CSRF tokens. */
export const SESSION_SECRET_STATE = 'dashboard.session_secret';

/**
 * The session secret: the one already stored, or `candidate` if there is none yet. Whichever
 * process asks first generates it, and every process (replicas, restarts) reads the same one.
 */
export async function ensureSessionSecret(tx: WriteStatements, command: { candidate: string; now: number }): Promise<string> {
  await tx.writeState(SESSION_SECRET_STATE, command.candidate, command.now, { onlyIfAbsent: true });
  return (await tx.readState(SESSION_SECRET_STATE))!;
}

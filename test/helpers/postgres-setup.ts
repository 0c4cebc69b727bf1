/**
 * The postgres project's setup file (runs in each test file's context): after the file, wait
 * for the scratch databases its tests dropped in the background (engine.ts).
 */
import { afterAll } from 'vitest';
import { settleScratchDrops } from './engine.ts';

afterAll(settleScratchDrops);

import type { Worker } from 'node:worker_threads';
import { StorageUnavailableError } from '../../store.ts';
import { deserializeError, type SerializedError } from '../errors.ts';

/** Waits for the first message of a type from a thread, or fails on its error/exit or a 'failed' message. */
export function nextMessage<T extends { type: string }>(worker: Worker, type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: T | { type: 'failed'; error: SerializedError }) => {
      if (message.type === type) {
        cleanup();
        resolve(message as T);
      } else if (message.type === 'failed') {
        cleanup();
        reject(deserializeError((message as { error: SerializedError }).error));
      }
    };
    const onError = (error: Error) => (cleanup(), reject(error));
    const onExit = () => (cleanup(), reject(new StorageUnavailableError('A database thread stopped')));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

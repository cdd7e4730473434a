/** Lifecycle notices a worker sends its parent over IPC when it has one (the lab uses them; ECS does not). */
export type WorkerNotice =
  | { readonly type: 'roomline-worker'; readonly state: 'ready'; readonly warmMs: number; readonly janusNode: string }
  | { readonly type: 'roomline-worker'; readonly state: 'busy'; readonly callId: string }
  | { readonly type: 'roomline-worker'; readonly state: 'done'; readonly callId: string | undefined };

/** Sends a notice to the parent process, when there is one. */
export function notify(notice: WorkerNotice): void {
  if (process.send !== undefined && process.connected) process.send(notice);
}

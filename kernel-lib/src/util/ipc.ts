/**
 * The last message of a forked child to its parent. Disconnecting right after process.send closes
 * the channel under a message still being written (a large one: a study's records), and the parent
 * sees the child exit without it; this disconnects once the message is written.
 */
export function sendLast(message: unknown): void {
  if (!process.send) return;
  process.send(message, undefined, {}, () => process.disconnect?.());
}

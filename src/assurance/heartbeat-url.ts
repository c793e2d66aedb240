/**
 * The dead man's switch: after every completed sweep Relay GETs HEARTBEAT_URL, and a monitor outside
 * Relay (a healthchecks-style service) raises the alarm when the GETs stop, the one failure Relay
 * cannot report itself. The URL may carry a secret token, so no message here ever includes it.
 */
export async function pingHeartbeatUrl(url: string, timeoutMs: number): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(`could not reach HEARTBEAT_URL (${failureCode(error)})`);
  }
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) throw new Error(`HEARTBEAT_URL answered ${response.status}`);
}

/** A code such as ECONNREFUSED or TimeoutError, never the URL that fetch's own message may hold. */
function failureCode(error: unknown): string {
  const e = error as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  return (
    e?.cause?.code ?? e?.code ?? (e?.name === 'TimeoutError' ? 'timed out' : (e?.cause?.name ?? 'failed'))
  );
}

import { z } from 'zod';

const loginReply = z.object({ token: z.string().min(1), user: z.string() });

/** POST <gateway>/api/login {"user"}: the token is valid on every gateway (they share the secret). */
export async function login(gatewayUrl: string, user: string, timeoutMs = 10_000): Promise<string> {
  const response = await fetch(`${gatewayUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`login of ${user} at ${gatewayUrl}: HTTP ${response.status} ${text.slice(0, 200)}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`login of ${user} at ${gatewayUrl}: the reply is not JSON`);
  }
  const reply = loginReply.safeParse(json);
  if (!reply.success) throw new Error(`login of ${user} at ${gatewayUrl}: unexpected reply ${text.slice(0, 200)}`);
  return reply.data.token;
}

/** The kind of work a platform process does, by the name `startPlatform` gave it (for the CPU profile). */
export function platformProcessKind(name: string): string {
  if (name.startsWith('gateway-')) return 'gateway';
  if (name.startsWith('message-service-')) return 'message-service';
  if (name === 'nats-server') return 'NATS';
  if (name === 'redis-server') return 'redis';
  if (name === 'ferretdb') return 'database';
  return name;
}

import { z } from 'zod';

/**
 * Reads and validates a service's environment with a zod schema; a bad or missing variable stops
 * the process at start-up with one readable line per problem instead of failing later.
 */
export function readEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
    throw new ConfigError(`invalid environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Common env fields. */
export const envFields = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  natsUrl: z.string().min(1).default('nats://127.0.0.1:4222'),
  host: z.string().default('127.0.0.1'),
};

import { randomBytes } from 'node:crypto';
import { consumerName, settingsBucket, streamName, subjects } from './names.js';

/**
 * Who may do what on NATS: one user per kind of process, each allowed only the subjects it uses
 * (everything else is denied by the server). The operator renders this table into the ChatCluster's
 * nats.conf and the local platform into its nats-server's, so every e2e test runs under it;
 * docs/security.md shows it (a test keeps the two equal).
 */
export const natsUsers = ['gateway', 'message-service', 'operator', 'preflight'] as const;
export type NatsUser = (typeof natsUsers)[number];

export interface NatsPermissions {
  /** Subjects the user may publish to (requests included). */
  publish: readonly string[];
  /** Subjects the user may subscribe to, its own reply inbox included. */
  subscribe: readonly string[];
  /** May answer the requests it receives (publish once to each request's reply subject). */
  allowResponses: boolean;
  /** What the user is for, for the docs. */
  purpose: string;
}

/**
 * The reply inbox of a user's connection (nats.js `inboxPrefix`): replies to one user land only
 * under its own prefix, so no other user can subscribe to them (`_INBOX.>` is nobody's).
 */
export function inboxPrefixOf(user: NatsUser): string {
  return `_INBOX_${user}`;
}

/** Environment variable holding a user's password, in the NATS pod (nats.conf reads it) and in the operator's Secret. */
export function passwordEnvOf(user: NatsUser): string {
  return `${user.toUpperCase().replaceAll('-', '_')}_PASSWORD`;
}

/** Environment variable (and Secret key) of the password the NATS servers of one cluster route with. */
export const routePasswordEnv = 'ROUTE_PASSWORD';
export const routeUser = 'route';

/**
 * A new random password. nats-server parses an environment variable's value as config text, so
 * a value like `1e99ab` would not load as a string: every password starts with a letter and
 * holds only hex digits after it.
 */
export function newNatsPassword(): string {
  return `p${randomBytes(24).toString('hex')}`;
}

const api = '$JS.API';
const kvStream = `KV_${settingsBucket}`;

/** Reading the stream: its info (first sequence) and direct gets of a room's messages and heads. */
const readStream = [
  `${api}.INFO`,
  `${api}.STREAM.INFO.${streamName}`,
  `${api}.DIRECT.GET.${streamName}`,
  `${api}.DIRECT.GET.${streamName}.>`,
];

/** What a gateway does: publish into the stream, read it, call the message-service, presence and revocations. */
const gatewayPublish = [
  subjects.inboundAll,
  ...readStream,
  // Only when no stream exists yet (createOnly): a gateway never updates, purges or deletes it.
  `${api}.STREAM.CREATE.${streamName}`,
  subjects.historyRpc,
  subjects.roomsRpc,
  subjects.roomAdminRpc,
  subjects.lookupRpc,
  'chorus.presence.>',
  subjects.tokenRevoked,
];
const gatewaySubscribe = [subjects.liveAll, subjects.membershipAll, 'chorus.presence.>', subjects.tokenRevoked];

/** The settings bucket: its stream's info and direct gets of its keys. */
const readSettings = [`${api}.STREAM.INFO.${kvStream}`, `${api}.DIRECT.GET.${kvStream}.>`, `${api}.STREAM.MSG.GET.${kvStream}`];
const readConsumer = `${api}.CONSUMER.INFO.${streamName}.${consumerName}`;

export const natsPermissions: Record<NatsUser, NatsPermissions> = {
  gateway: {
    purpose: 'publishes clients\' messages into the stream, reads it for live delivery and resumes, calls the message-service\'s RPCs',
    publish: gatewayPublish,
    subscribe: [...gatewaySubscribe, `${inboxPrefixOf('gateway')}.>`],
    allowResponses: false,
  },
  'message-service': {
    purpose: 'owns the stream and the writer\'s consumer, pulls and acks messages, answers the RPCs, announces membership changes',
    publish: [
      ...readStream,
      `${api}.STREAM.CREATE.${streamName}`,
      `${api}.STREAM.UPDATE.${streamName}`,
      // The trimmer: removes messages MongoDB has (pipeline/stream-trimmer.ts).
      `${api}.STREAM.PURGE.${streamName}`,
      `${api}.CONSUMER.CREATE.${streamName}.${consumerName}`,
      `${api}.CONSUMER.CREATE.${streamName}.${consumerName}.>`,
      `${api}.CONSUMER.DURABLE.CREATE.${streamName}.${consumerName}`,
      readConsumer,
      `${api}.CONSUMER.MSG.NEXT.${streamName}.${consumerName}`,
      `$JS.ACK.${streamName}.${consumerName}.>`,
      // The settings bucket: created if missing, watched (an ordered consumer, recreated on a gap).
      `${api}.STREAM.CREATE.${kvStream}`,
      ...readSettings,
      `${api}.CONSUMER.CREATE.${kvStream}`,
      `${api}.CONSUMER.CREATE.${kvStream}.>`,
      `${api}.CONSUMER.DELETE.${kvStream}.>`,
      `$JS.FC.${kvStream}.>`,
      'chorus.membership.>',
    ],
    subscribe: [subjects.historyRpc, subjects.roomsRpc, subjects.roomAdminRpc, subjects.lookupRpc, `${inboxPrefixOf('message-service')}.>`],
    allowResponses: true,
  },
  operator: {
    purpose: 'the autopilot: reads the writer\'s backlog (stream and consumer info), writes the batching settings',
    publish: [
      `${api}.INFO`,
      `${api}.STREAM.INFO.${streamName}`,
      readConsumer,
      `${api}.STREAM.CREATE.${kvStream}`,
      ...readSettings,
      `$KV.${settingsBucket}.>`,
    ],
    subscribe: [`${inboxPrefixOf('operator')}.>`],
    allowResponses: false,
  },
  preflight: {
    purpose: 'the upgrade preflight Job: reads stream, consumer and settings, and runs a canary gateway (a gateway\'s rights)',
    publish: [...gatewayPublish, readConsumer, ...readSettings],
    subscribe: [...gatewaySubscribe, `${inboxPrefixOf('preflight')}.>`],
    allowResponses: false,
  },
};

/**
 * nats.conf's `authorization` block: every user with its permissions; each password is the
 * environment variable passwordEnvOf(user), which nats-server reads when it loads the config.
 */
export function natsAuthorizationBlock(): string {
  const list = (items: readonly string[]) => `[${items.map((s) => JSON.stringify(s)).join(', ')}]`;
  const users = natsUsers.map((user) => {
    const p = natsPermissions[user];
    return [
      '    {',
      `      user: ${JSON.stringify(user)}`,
      `      password: $${passwordEnvOf(user)}`,
      '      permissions: {',
      `        publish: { allow: ${list(p.publish)} }`,
      `        subscribe: { allow: ${list(p.subscribe)} }`,
      ...(p.allowResponses ? ['        allow_responses: true'] : []),
      '      }',
      '    }',
    ].join('\n');
  });
  return ['authorization {', '  users: [', ...users, '  ]', '}'].join('\n');
}

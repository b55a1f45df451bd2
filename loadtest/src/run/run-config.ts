import type { RoomMixEntry } from '../config/room-mix.js';
import type { ProfileName, ProfileOptions } from '../profiles/schedule.js';

/** Thresholds that make the run fail (exit non-zero). Loss, duplicates and order violations always do. */
export interface SloThresholds {
  deliveryP99Ms: number;
  ackP99Ms: number;
  maxErrors: number;
  maxConnectFailures: number;
}

/** Everything one run needs, validated (see config/cli-options.ts for the flags that produce it). */
export interface RunConfig {
  profile: ProfileName;
  gateways: string[];
  users: number;
  roomMix: RoomMixEntry[];
  largeRoomSize: number;
  messageSize: number;
  schedule: ProfileOptions;
  connectConcurrency: number;
  /** create/join requests in flight at once (each is a database write on the platform). */
  joinConcurrency: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Most time the drain may take. */
  drainTimeoutMs: number;
  /** The drain also ends when no ack, error or delivery arrived for this long. */
  drainIdleTimeoutMs: number;
  /** Distinguishes this run's users and rooms from earlier runs' on the same platform. */
  runId: string;
  slo: SloThresholds;
}

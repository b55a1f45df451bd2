import type { NatsConnection } from '@nats-io/transport-node';
import { subjects } from '@chorus/shared/bus/names';
import type { MembershipChange } from '@chorus/shared/bus/payloads';

/** Tells every gateway that a membership changed: they drop cached members, and end delivery on removal. */
export function announceMembership(nc: NatsConnection, room: string, change: MembershipChange): void {
  nc.publish(subjects.membership(room), JSON.stringify(change));
}

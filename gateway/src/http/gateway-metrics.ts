import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one gateway process, served on GET /metrics. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: 'chorus_gateway_connections', help: 'Open WebSocket connections', registers: [this.registry] });
  readonly accepted = new Counter({ name: 'chorus_gateway_connections_accepted_total', help: 'WebSocket connections accepted (their rate is the reconnect rate after another gateway drained or died)', registers: [this.registry] });
  readonly rooms = new Gauge({ name: 'chorus_gateway_rooms', help: 'Rooms this gateway is subscribed to', registers: [this.registry] });
  readonly frames = new Counter({ name: 'chorus_gateway_frames_total', help: 'Valid client frames by type', labelNames: ['type'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'chorus_gateway_errors_total', help: 'Error frames sent, by code', labelNames: ['code'], registers: [this.registry] });
  readonly delivered = new Counter({ name: 'chorus_gateway_messages_delivered_total', help: 'Message frames pushed to sockets', registers: [this.registry] });
  readonly slowConsumers = new Counter({ name: 'chorus_gateway_slow_consumer_closes_total', help: 'Sockets closed for falling too far behind', registers: [this.registry] });
  readonly ackSeconds = new Histogram({
    name: 'chorus_gateway_send_ack_seconds',
    help: 'From a send frame to its ack (membership, seq, durable JetStream publish)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

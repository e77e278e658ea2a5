/**
 * Optional notifications about decisions, published as CloudEvents to an Event Grid custom topic by
 * src/adapters/eventgrid/. A publishing failure never undoes or fails a decision: callers log it.
 */
import type { ConnectionNotificationType } from "../domain/decisions/decision.ts";
import type { OperationOptions } from "./arm.ts";

export interface ConnectionNotification {
  readonly type: ConnectionNotificationType;
  /** The connection's ARM ID (the CloudEvent subject). */
  readonly connectionId: string;
  readonly resourceId: string;
  readonly privateEndpointId: string | undefined;
  readonly actor: string;
  readonly ruleId: string | undefined;
  readonly reason: string;
  readonly decisionId: string;
  readonly correlationId: string;
  readonly error: string | undefined;
  readonly time: Date;
}

export interface NotificationPublisher {
  publish(notification: ConnectionNotification, options?: OperationOptions): Promise<void>;
}

/** The publisher used when no topic is configured: publishes nothing. */
export const noNotifications: NotificationPublisher = { publish: async () => {} };

/**
 * NotificationPublisher over an Event Grid custom topic: each notification becomes one CloudEvent 1.0
 * (`Portcullis.Connection.*`), sent with EventGridPublisherClient and the app's own credential (Entra ID,
 * scope https://eventgrid.azure.net/.default). The SDK is imported and the client built on the first publish.
 *
 * CloudEvent: `source` names Portcullis, `subject` is the connection's ARM ID, `id` is the decision record's ID
 * (unique per decision, so a subscriber can drop a repeated delivery), `data` carries the decision's summary.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { EventGridPublisherClient } from "@azure/eventgrid";
import { toPortcullisError } from "../../domain/errors.ts";
import { providerOf } from "../../domain/providers/registry.ts";
import { resourceTypeOf } from "../../domain/resource-id.ts";
import type { ConnectionNotification, NotificationPublisher } from "../../ports/notifications.ts";

/** The CloudEvents `source` of every Portcullis notification. */
export const NOTIFICATION_SOURCE = "/portcullis/approval-engine";

export interface EventGridPublisherOptions {
  /** The custom topic's endpoint, e.g. https://{topic}.{region}-1.eventgrid.azure.net/api/events. */
  readonly endpoint: string;
  readonly credential: TokenCredential;
  /** PEM of a CA to trust instead of the public ones (the local emulator's topic sink only). */
  readonly caPem?: string | undefined;
  /** Retries of one publish (default 2: a notification must not hold up the decision that caused it). */
  readonly maxRetries?: number;
}

/** The JSON a subscriber receives as the CloudEvent's `data`. */
export interface NotificationData {
  readonly connectionId: string;
  /** The resource the connection belongs to (any governed type) and its ARM type, in the registry's casing. */
  readonly resourceId: string;
  readonly resourceType: string;
  readonly privateEndpointId: string | undefined;
  readonly actor: string;
  readonly ruleId: string | undefined;
  readonly reason: string;
  readonly decisionId: string;
  readonly correlationId: string;
  readonly error: string | undefined;
}

/** The registry's spelling of the resource's type (as the ID spells it for a type Portcullis does not know). */
function resourceTypeOfNotification(resourceId: string): string {
  const type = resourceTypeOf(resourceId) ?? "";
  return providerOf(type)?.resourceType ?? type;
}

/** Builds the Event Grid publisher; nothing is imported or sent until the first notification. */
export function createEventGridNotificationPublisher(options: EventGridPublisherOptions): NotificationPublisher {
  let client: Promise<EventGridPublisherClient<"CloudEvent">> | undefined;
  const clientOnce = () =>
    (client ??= import("@azure/eventgrid").then(
      ({ EventGridPublisherClient }) =>
        new EventGridPublisherClient(options.endpoint, "CloudEvent", options.credential, {
          retryOptions: { maxRetries: options.maxRetries ?? 2 },
          ...(options.caPem !== undefined ? { tlsOptions: { ca: options.caPem } } : {}),
        }),
    ));
  return {
    async publish(notification: ConnectionNotification, publishOptions = {}) {
      const data: NotificationData = {
        connectionId: notification.connectionId,
        resourceId: notification.resourceId,
        resourceType: resourceTypeOfNotification(notification.resourceId),
        privateEndpointId: notification.privateEndpointId,
        actor: notification.actor,
        ruleId: notification.ruleId,
        reason: notification.reason,
        decisionId: notification.decisionId,
        correlationId: notification.correlationId,
        error: notification.error,
      };
      try {
        await (await clientOnce()).send(
          [
            {
              type: notification.type,
              source: NOTIFICATION_SOURCE,
              id: notification.decisionId,
              subject: notification.connectionId,
              time: notification.time,
              datacontenttype: "application/json",
              data,
            },
          ],
          { abortSignal: publishOptions.abortSignal },
        );
      } catch (error) {
        throw toPortcullisError(error);
      }
    },
  };
}

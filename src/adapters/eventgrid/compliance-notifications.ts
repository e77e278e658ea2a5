/**
 * Compliance notifications as CloudEvents 1.0 on an Event Grid custom topic:
 *
 *   type                                   subject                  data
 *   Portcullis.Compliance.FindingOpened    the finding's resource   runId + the finding (without remediation text)
 *   Portcullis.Compliance.FindingResolved  the finding's resource   runId + the finding
 *   Portcullis.Compliance.ReportReady      /audits/{runId}          runId, score, counts, report path
 *
 * The event ID is derived from run, type and finding, so a retried publish is recognisably the same event.
 * Events go out in batches well under the topic's 1 MB request limit. The SDK is imported and the client built
 * on the first publish (cold start), with the app's own credential, like the connection notifications.
 */
import type { EventGridPublisherClient, SendCloudEventInput } from "@azure/eventgrid";
import type { TokenCredential } from "@azure/core-auth";
import { createHash } from "node:crypto";
import { toPortcullisError } from "../../domain/errors.ts";
import type { ComplianceNotification, ComplianceNotificationPublisher } from "../../ports/compliance-notifications.ts";

export const COMPLIANCE_EVENT_SOURCE = "/portcullis/compliance-audit";
const BATCH_SIZE = 50;

export interface ComplianceNotificationsOptions {
  /** PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT, e.g. https://topic.westeurope-1.eventgrid.azure.net/api/events */
  readonly endpoint: string;
  readonly credential: TokenCredential;
  /** PEM of a CA to trust (the local emulator's topic only). */
  readonly caPem?: string | undefined;
}

function eventId(notification: ComplianceNotification): string {
  const key = notification.type === "Portcullis.Compliance.ReportReady" ? notification.runId : `${notification.runId}|${notification.finding.id}`;
  return createHash("sha256").update(`${notification.type}|${key}`).digest("hex").slice(0, 32);
}

/** The CloudEvent for one notification. */
export function toCloudEvent(notification: ComplianceNotification): SendCloudEventInput<Record<string, unknown>> {
  const common = { type: notification.type, source: COMPLIANCE_EVENT_SOURCE, id: eventId(notification), time: notification.time, datacontenttype: "application/json" };
  if (notification.type === "Portcullis.Compliance.ReportReady") {
    const s = notification.summary;
    return {
      ...common,
      subject: `/audits/${s.runId}`,
      data: {
        runId: s.runId,
        score: s.score,
        instances: s.instances,
        openBySeverity: s.openBySeverity,
        opened: s.opened,
        resolvedInRun: s.resolvedInRun,
        reportPath: `/api/reports/${s.runId}`,
      },
    };
  }
  const { remediation: _remediation, ...finding } = notification.finding;
  return { ...common, subject: notification.finding.resourceId, data: { runId: notification.runId, finding } };
}

/** A publisher that sends compliance notifications to the configured topic. */
export function createComplianceNotificationPublisher(options: ComplianceNotificationsOptions): ComplianceNotificationPublisher {
  let client: Promise<EventGridPublisherClient<"CloudEvent">> | undefined;
  const clientOnce = () =>
    (client ??= import("@azure/eventgrid").then(
      ({ EventGridPublisherClient }) =>
        new EventGridPublisherClient(options.endpoint, "CloudEvent", options.credential, {
          retryOptions: { maxRetries: 2 },
          ...(options.caPem !== undefined ? { tlsOptions: { ca: options.caPem } } : {}),
        }),
    ));
  return {
    async publish(notifications, operationOptions = {}) {
      for (let i = 0; i < notifications.length; i += BATCH_SIZE) {
        try {
          await (await clientOnce()).send(notifications.slice(i, i + BATCH_SIZE).map(toCloudEvent), { abortSignal: operationOptions.abortSignal });
        } catch (error) {
          throw toPortcullisError(error);
        }
      }
    },
  };
}

/**
 * Optional notifications about compliance, published as CloudEvents to the Event Grid topic configured in
 * PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT (src/adapters/eventgrid/compliance-notifications.ts). Separate from the
 * connection notifications port (src/ports/notifications.ts), whose event shape is about one decision.
 * A publishing failure never fails an audit: the workflow logs it and carries on.
 */
import type { Finding } from "../domain/audit/findings.ts";
import type { AuditRunSummary } from "../domain/audit/run.ts";
import type { OperationOptions } from "./arm.ts";

export const COMPLIANCE_NOTIFICATION_TYPES = [
  "Portcullis.Compliance.FindingOpened",
  "Portcullis.Compliance.FindingResolved",
  "Portcullis.Compliance.ReportReady",
] as const;

export type ComplianceNotification =
  | {
      readonly type: "Portcullis.Compliance.FindingOpened" | "Portcullis.Compliance.FindingResolved";
      readonly runId: string;
      readonly finding: Finding;
      readonly time: Date;
    }
  | {
      readonly type: "Portcullis.Compliance.ReportReady";
      readonly runId: string;
      readonly summary: AuditRunSummary;
      readonly time: Date;
    };

export interface ComplianceNotificationPublisher {
  /** Publishes a batch of notifications (one request where the topic allows). */
  publish(notifications: readonly ComplianceNotification[], options?: OperationOptions): Promise<void>;
}

/** The publisher used when no topic is configured: publishes nothing. */
export const noComplianceNotifications: ComplianceNotificationPublisher = { publish: async () => {} };

/**
 * The ticket check the CLI makes before any write, with the API's anchoring (src/functions/api-runtime.ts): the
 * whole ticket must match PORTCULLIS_TICKET_PATTERN. A regular expression alone tells few people what to type, so
 * the error also shows references that do match, picked from the usual ticketing forms.
 */
import { CliError, EXIT } from "./exit-codes.ts";

/** Common ticket references (ServiceNow changes, requests, incidents; Jira keys; plain numbers). */
const USUAL_FORMS = ["CHG0012345", "RITM0012345", "INC0012345", "OPS-123", "PROJ-4711", "CR-2024-001", "12345", "#12345", "TICKET-1"];

/** The usual ticket forms that match the pattern (anchored), at most three. */
export function matchingExamples(pattern: string): string[] {
  const anchored = new RegExp(`^(?:${pattern})$`);
  return USUAL_FORMS.filter((example) => anchored.test(example)).slice(0, 3);
}

/** Throws a usage error naming the flag and showing tickets that would be accepted, unless the ticket matches. */
export function requireTicketMatches(flag: string, ticket: string, pattern: string): void {
  if (new RegExp(`^(?:${pattern})$`).test(ticket)) return;
  const examples = matchingExamples(pattern);
  const hint =
    examples.length > 0
      ? `for example ${examples.map((e) => JSON.stringify(e)).join(" or ")}`
      : `none of the usual forms (${USUAL_FORMS.slice(0, 4).join(", ")}) match it either; ask whoever configured the deployment`;
  throw new CliError(EXIT.usage, `${flag} "${ticket}" is not a ticket this deployment accepts: ${hint} (the whole reference must match ${pattern}, set by PORTCULLIS_TICKET_PATTERN).`);
}

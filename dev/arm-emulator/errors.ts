/**
 * ARM-shaped errors. Every failure the emulator answers is an `ArmError`, serialized as
 * `{"error":{"code","message"[,"target"][,"details"]}}` the way Azure Resource Manager and its resource providers do.
 */

/** An error answered to the client with an HTTP status and an ARM error body. */
export class ArmError extends Error {
  readonly status: number;
  readonly code: string;
  readonly target: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, options: { target?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = "ArmError";
    this.status = status;
    this.code = code;
    this.target = options.target;
    this.headers = options.headers ?? {};
  }

  /** The JSON body ARM sends for this error. */
  toBody(): { error: { code: string; message: string; target?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.target === undefined ? {} : { target: this.target }) } };
  }
}

/** 404 for an ARM resource that does not exist, with ARM's `ResourceNotFound` wording. */
export function resourceNotFound(resourceType: string, name: string, resourceGroup: string): ArmError {
  return new ArmError(
    404,
    "ResourceNotFound",
    `The Resource '${resourceType}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

/** 400 for a request body that fails validation, with the offending property as target. */
export function invalidRequest(code: string, message: string, target?: string): ArmError {
  return new ArmError(400, code, message, target === undefined ? {} : { target });
}

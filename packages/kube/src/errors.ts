/**
 * Kubernetes `Status` errors (apimachinery `metav1.Status`): what a real API server answers for a refused request,
 * and what kubectl prints as `Error from server (<Reason>): <message>`.
 */
export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Forbidden'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'ServiceUnavailable';

const CODES: Record<StatusReason, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Invalid: 422,
  BadRequest: 400,
  Forbidden: 403,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  UnsupportedMediaType: 415,
  InternalError: 500,
  ServiceUnavailable: 503,
};

/** One field a 422 Invalid names (`details.causes`), e.g. `metadata.name`. */
export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
}

export class KubeError extends Error {
  readonly code: number;

  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly details: StatusDetails = {},
  ) {
    super(message);
    this.name = 'KubeError';
    this.code = CODES[reason];
  }

  /** The Status object a real API server sends with the error's HTTP code. */
  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

/** `<resource>[.<group>] "<name>" not found`, the apiserver's wording. */
export function notFound(resource: string, group: string, name: string): KubeError {
  return new KubeError('NotFound', `${qualified(resource, group)} "${name}" not found`, {
    name,
    ...(group === '' ? {} : { group }),
    kind: resource,
  });
}

export function alreadyExists(resource: string, group: string, name: string): KubeError {
  return new KubeError('AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, {
    name,
    ...(group === '' ? {} : { group }),
    kind: resource,
  });
}

export function conflict(resource: string, group: string, name: string, why: string): KubeError {
  return new KubeError('Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, {
    name,
    ...(group === '' ? {} : { group }),
    kind: resource,
  });
}

/** 422: `<Kind>.<group> "<name>" is invalid: <field>: <reason>: <message>` for each cause. */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): KubeError {
  const text = causes.map((cause) => `${cause.field}: ${cause.message}`).join(', ');
  return new KubeError('Invalid', `${qualified(kind, group)} "${name}" is invalid: ${text}`, {
    name,
    ...(group === '' ? {} : { group }),
    kind,
    causes,
  });
}

function qualified(resource: string, group: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

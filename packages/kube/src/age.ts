/**
 * An object's age as a real API server's tables show it (apimachinery `util/duration.HumanDuration`): seconds up to
 * two minutes, then minutes (with seconds under ten minutes), hours (with minutes under eight hours), days (with
 * hours under eight days), years (with days under eight years). Less than two seconds in the future counts as now.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return withRest(days, 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return withRest(years, 'y', days % 365, 'd');
  return `${years}y`;
}

function withRest(major: number, majorUnit: string, rest: number, restUnit: string): string {
  return rest === 0 ? `${major}${majorUnit}` : `${major}${majorUnit}${rest}${restUnit}`;
}

/** The age column's cell: the time since `creationTimestamp` (RFC 3339), `<unknown>` without one. */
export function ageOf(creationTimestamp: string | null | undefined, nowMs: number): string {
  if (creationTimestamp === undefined || creationTimestamp === null) return '<unknown>';
  const createdMs = Date.parse(creationTimestamp);
  return Number.isNaN(createdMs) ? '<unknown>' : humanDuration(nowMs - createdMs);
}

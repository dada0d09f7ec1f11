/** Checks of a destination's settings that class-validator cannot express; each names its field. */
export interface RuleProblem {
  path: string;
  message: string;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https everywhere; plain http only to localhost and only in dev mode (EXPORT_ALLOW_LOCAL_HTTP). */
export function checkEndpointUrl(path: string, raw: string, allowLocalHttp: boolean): RuleProblem[] {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [{ path, message: 'must be an absolute URL' }];
  }
  if (url.username || url.password) return [{ path, message: 'must not carry credentials in the URL' }];
  if (url.protocol === 'https:') return [];
  if (url.protocol === 'http:' && allowLocalHttp && LOCAL_HOSTS.has(url.hostname)) return [];
  return [{ path, message: url.protocol === 'http:' ? 'must use https (plain http is allowed only to localhost in dev mode)' : 'must be an https URL' }];
}

/** S3 bucket naming rules (general purpose buckets). */
export function checkBucketName(path: string, name: string): RuleProblem[] {
  const problems: string[] = [];
  if (name.length < 3 || name.length > 63) problems.push('must be 3 to 63 characters long');
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) problems.push('may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit');
  if (name.includes('..')) problems.push('must not contain two adjacent dots');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) problems.push('must not look like an IP address');
  if (name.startsWith('xn--') || name.endsWith('-s3alias')) problems.push('uses a reserved prefix or suffix');
  return problems.map((message) => ({ path, message }));
}
